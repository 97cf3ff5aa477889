package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"

	"github.com/gatehouse/gatehouse/pkg/client"
)

const defaultServer = "http://127.0.0.1:8080"

// connection is where a command reaches Gatehouse, and as whom: flags that
// override GATEHOUSE_URL and GATEHOUSE_TOKEN.
type connection struct {
	server, token string
	// envToken is GATEHOUSE_TOKEN, kept out of the flag's default so that
	// help never prints it.
	envToken string
}

func (c *connection) define(fs *flag.FlagSet, getenv func(string) string) {
	server := getenv("GATEHOUSE_URL")
	if server == "" {
		server = defaultServer
	}
	fs.StringVar(&c.server, "server", server, "base URL of Gatehouse (env GATEHOUSE_URL)")
	fs.StringVar(&c.token, "token", "", "bearer `secret` to act with (default env GATEHOUSE_TOKEN, which keeps it out of the process list)")
	c.envToken = getenv("GATEHOUSE_TOKEN")
}

// check refuses a server that is no http(s) URL, and a missing token,
// before any request.
func (c *connection) check(needs string) error {
	u, err := url.Parse(c.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("--server %q is not an http:// or https:// URL", c.server)
	}
	if c.token == "" {
		c.token = c.envToken
	}
	if c.token == "" {
		return usageErrorf("no token: set GATEHOUSE_TOKEN (or --token) to %s", needs)
	}
	return nil
}

// explain words an error of a request for a person: a refusal of the
// server as apiFailure does, a server out of reach with where it was
// looked for.
func (c *connection) explain(err error) error {
	var apiErr *client.Error
	switch {
	case errors.As(err, &apiErr):
		return apiFailure{apiErr}
	case exitCode(err) == exitUnavailable:
		return fmt.Errorf("cannot reach Gatehouse at %s (GATEHOUSE_URL or --server): %w", c.server, err)
	}
	return err
}

func (c *connection) client() *client.Client {
	return client.New(c.server, c.token, client.WithUserAgent("gatehouse-cli"))
}
