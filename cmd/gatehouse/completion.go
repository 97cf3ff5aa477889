package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

const completionUsage = `Usage: gatehouse completion bash|zsh

Prints a script that completes gatehouse's commands, verbs and flags in
the shell. Load it in the shell's start-up file:

  source <(gatehouse completion bash)     # ~/.bashrc
  source <(gatehouse completion zsh)      # ~/.zshrc, after compinit
`

// otherCommands are the commands outside the administrator's, with their
// subcommands, for completion.
var otherCommands = []struct {
	name string
	subs []string
}{
	{"serve", nil}, {"migrate", nil}, {"invite", nil}, {"operator", []string{"add"}}, {"keys", []string{"rotate", "reseal"}},
	{"mail", []string{"last"}}, {"soak", nil}, {"backup", nil}, {"restore", nil}, {"copy", nil}, {"version", nil}, {"help", nil},
	{"completion", []string{"bash", "zsh"}},
}

// completionCommand is `gatehouse completion bash|zsh`.
func completionCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, completionUsage)
		return flag.ErrHelp
	}
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		fmt.Fprint(stderr, completionUsage)
		return usageErrorf("completion: say bash or zsh")
	}
	if args[0] == "zsh" {
		// zsh runs bash's completion functions through bashcompinit: one
		// script to keep, for both shells.
		fmt.Fprint(stdout, "#compdef gatehouse\n# zsh completion for gatehouse: source <(gatehouse completion zsh), after compinit.\n"+
			"autoload -U +X bashcompinit && bashcompinit\n")
	} else {
		fmt.Fprint(stdout, "# bash completion for gatehouse: source <(gatehouse completion bash).\n")
	}
	fmt.Fprint(stdout, bashCompletion())
	return nil
}

// bashCompletion is the completion function, written from the command
// tables so that it knows every verb and flag there is.
func bashCompletion() string {
	var commands []string
	verbs := map[string][]string{}
	for _, c := range otherCommands {
		commands = append(commands, c.name)
		verbs[c.name] = c.subs
	}
	flags := map[string][]string{} // "group verb" → its flags
	for _, g := range adminGroups() {
		commands = append(commands, g.name)
		verbs[g.name] = g.verbNames()
		for _, v := range g.verbs {
			fs := flag.NewFlagSet("", flag.ContinueOnError)
			var conn connection
			conn.define(fs, func(string) string { return "" })
			fs.Bool("json", false, "")
			v.define(fs)
			var names []string
			fs.VisitAll(func(f *flag.Flag) {
				if len(f.Name) == 1 {
					names = append(names, "-"+f.Name)
				} else {
					names = append(names, "--"+f.Name)
				}
			})
			flags[g.name+" "+v.name] = names
		}
	}
	verbs["help"] = commands

	var b strings.Builder
	b.WriteString("_gatehouse() {\n")
	b.WriteString("\tlocal cur=${COMP_WORDS[COMP_CWORD]} words=\"\"\n")
	b.WriteString("\tcase $COMP_CWORD in\n")
	fmt.Fprintf(&b, "\t1) words=%q ;;\n", strings.Join(commands, " "))
	b.WriteString("\t2)\n\t\tcase ${COMP_WORDS[1]} in\n")
	for _, name := range commands {
		if len(verbs[name]) > 0 {
			fmt.Fprintf(&b, "\t\t%s) words=%q ;;\n", name, strings.Join(verbs[name], " "))
		}
	}
	b.WriteString("\t\tesac ;;\n")
	b.WriteString("\t*)\n\t\t[[ $cur == -* ]] || return 0\n\t\tcase \"${COMP_WORDS[1]} ${COMP_WORDS[2]}\" in\n")
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\t\t%q) words=%q ;;\n", k, strings.Join(flags[k], " "))
	}
	b.WriteString("\t\tesac ;;\n\tesac\n")
	b.WriteString("\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\n")
	b.WriteString("complete -F _gatehouse gatehouse\n")
	return b.String()
}
