package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Without --smtp-url a node writes every e-mail to <data-dir>/mail as an
// .eml file. Those files are quoted-printable, so a link in them is cut
// into pieces and its "=" written "=3D": `mail last` gives a person trying
// Gatehouse on one machine the text as a mail client would show it.

const mailUsage = `Usage: gatehouse mail last --to ADDRESS [--link] [--data-dir DIR]

Prints the newest e-mail to ADDRESS that the server wrote to <data-dir>/mail
(it does when no --smtp-url is set), decoded; with --link, only the first
http:// or https:// link in it (an activation link, for example).

Flags:
`

// linkInMail is a link as the messages write them: on a line of its own,
// or followed by a space or punctuation.
var linkInMail = regexp.MustCompile(`https?://[^\s<>"]+`)

func mailCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gatehouse mail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := getenv("GATEHOUSE_DATA_DIR")
	if dataDir == "" {
		dataDir = "./gatehouse-data"
	}
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data dir (env GATEHOUSE_DATA_DIR)")
	to := fs.String("to", "", "the recipient's address")
	linkOnly := fs.Bool("link", false, "print only the first http:// or https:// link")
	fs.Usage = func() {
		fmt.Fprint(stderr, mailUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "last" {
		fs.Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageErrorf(`mail: "last" is the one subcommand`)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("mail last: unexpected argument %q", fs.Arg(0))
	}
	if strings.TrimSpace(*to) == "" {
		fs.Usage()
		return usageErrorf("mail last: --to ADDRESS is required")
	}
	m, err := lastMailTo(filepath.Join(dataDir, "mail"), *to)
	if err != nil {
		return err
	}
	if *linkOnly {
		link := linkInMail.FindString(m.body)
		if link == "" {
			return fmt.Errorf("the newest e-mail to %s (%q, %s) has no link", *to, m.subject, m.path)
		}
		fmt.Fprintln(stdout, strings.TrimRight(link, ".,;:!?)]'"))
		return nil
	}
	fmt.Fprintf(stdout, "From: %s\nTo: %s\nDate: %s\nSubject: %s\nFile: %s\n\n%s",
		m.from, m.to, m.date.Format(time.RFC1123Z), m.subject, m.path, m.body)
	if !strings.HasSuffix(m.body, "\n") {
		fmt.Fprintln(stdout)
	}
	return nil
}

// decodedMail is one .eml file as a reader sees it.
type decodedMail struct {
	path                    string
	from, to, subject, body string
	date                    time.Time
	messageID               string
}

// lastMailTo finds the newest message to address among the .eml files of
// dir. Dates have a second's precision, so ties go to the Message-ID:
// Gatehouse makes them from time-ordered ids.
func lastMailTo(dir, address string) (decodedMail, error) {
	want := strings.ToLower(strings.Trim(strings.TrimSpace(address), "<>"))
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return decodedMail{}, err
	}
	if len(files) == 0 {
		return decodedMail{}, fmt.Errorf("no e-mail in %s: a server without --smtp-url writes its e-mail there once it is sent (is this the server's data dir?)", dir)
	}
	var newest *decodedMail
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // replaced by a repeat delivery meanwhile
		} else if err != nil {
			return decodedMail{}, err
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			return decodedMail{}, fmt.Errorf("%s: %w", f, err)
		}
		if !addressedTo(msg.Header, want) {
			continue
		}
		m, err := decodeMail(msg)
		if err != nil {
			return decodedMail{}, fmt.Errorf("%s: %w", f, err)
		}
		m.path = f
		if newest == nil || m.date.After(newest.date) || (m.date.Equal(newest.date) && m.messageID > newest.messageID) {
			newest = &m
		}
	}
	if newest == nil {
		return decodedMail{}, fmt.Errorf("no e-mail to %s among the %d in %s", address, len(files), dir)
	}
	return *newest, nil
}

func addressedTo(h mail.Header, want string) bool {
	list, err := h.AddressList("To")
	if err != nil {
		return strings.Contains(strings.ToLower(h.Get("To")), want)
	}
	for _, a := range list {
		if strings.ToLower(a.Address) == want {
			return true
		}
	}
	return false
}

var headerDecoder = &mime.WordDecoder{}

func decodeMail(msg *mail.Message) (decodedMail, error) {
	m := decodedMail{messageID: msg.Header.Get("Message-Id")}
	for _, h := range []struct {
		name string
		into *string
	}{{"From", &m.from}, {"To", &m.to}, {"Subject", &m.subject}} {
		v := msg.Header.Get(h.name)
		if decoded, err := headerDecoder.DecodeHeader(v); err == nil {
			v = decoded
		}
		*h.into = v
	}
	m.date, _ = msg.Header.Date()
	body, err := textOf(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return m, err
	}
	m.body = strings.ReplaceAll(body, "\r\n", "\n")
	return m, nil
}

// textOf is the text of a body: the part itself when it is text, else the
// first text/plain part found in a multipart body (depth first), else the
// first text part of any kind.
func textOf(contentType, encoding string, body io.Reader) (string, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if contentType == "" || err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		var fallback string
		for {
			part, err := r.NextRawPart()
			if err == io.EOF {
				return fallback, nil
			} else if err != nil {
				return "", err
			}
			text, err := textOf(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part)
			if err != nil {
				return "", err
			}
			partType, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
			if partType == "" || partType == "text/plain" || strings.HasPrefix(partType, "multipart/") && text != "" {
				return text, nil
			}
			if fallback == "" {
				fallback = text
			}
		}
	}
	if !strings.HasPrefix(mediaType, "text/") {
		return "", nil
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return "", err
	}
	if cs := strings.ToLower(params["charset"]); cs == "iso-8859-1" || cs == "latin1" {
		runes := make([]rune, len(raw))
		for i, b := range raw {
			runes[i] = rune(b)
		}
		return string(runes), nil
	}
	return string(raw), nil
}
