package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// `gatehouse completion bash` completes commands, verbs and each verb's
// flags in bash; zsh gets the same function through bashcompinit.
func TestCompletionCommand(t *testing.T) {
	op := admin{t: t}
	script := op.ok("completion", "bash")
	if zsh := op.ok("completion", "zsh"); !strings.HasPrefix(zsh, "#compdef gatehouse") || !strings.Contains(zsh, "bashcompinit") ||
		!strings.Contains(zsh, "complete -F _gatehouse gatehouse") {
		t.Errorf("zsh script:\n%s", zsh)
	}
	op.fails(exitUsage, []string{"bash or zsh"}, "completion", "fish")

	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the script")
	}
	for line, want := range map[string]string{
		"gatehouse tok":                  "tokens",
		"gatehouse tokens cr":            "create",
		"gatehouse tokens create --sc":   "--scope",
		"gatehouse audit tail --f":       "--follow",
		"gatehouse users remove x --acc": "--account",
		"gatehouse completion z":         "zsh",
		"gatehouse help invi":            "invite invitations",
		"gatehouse users list --account": "--account",
	} {
		words := strings.Fields(line)
		cmd := exec.Command(bash, "--norc", "-c", script+`
COMP_WORDS=(`+line+`); COMP_CWORD=`+strconv.Itoa(len(words)-1)+`
_gatehouse; echo "${COMPREPLY[*]}"`)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
}
