package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testbin"
)

// TestPages: the pages in docs/man are what mangen writes for the
// binaries of this tree (else: make man), and each agrees with --help:
// every line of every help text the page is made of is in the page as
// man(1) renders it.
func TestPages(t *testing.T) {
	manCmd, err := exec.LookPath("man")
	if err != nil {
		t.Fatalf("man is not installed (make test installs it: scripts/deps.sh): %v", err)
	}
	dir := testbin.Commands(t, "../..")
	for _, p := range pages {
		file := p.name + "." + p.section
		got, err := p.render(dir)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("../../docs/man", file))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("docs/man/%s is not what mangen writes for this tree (run make man): %v", file, err)
		}
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(manCmd, "-E", "ascii", "-l", path)
		cmd.Env = append(os.Environ(), "MANWIDTH=4000", "MANPAGER=cat", "PAGER=cat")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("man -l %s: %v", file, err)
		}
		rendered := words(overstrike.ReplaceAllString(string(out), ""))
		texts := []string{}
		top, _ := help(filepath.Join(dir, p.name), "--help")
		texts = append(texts, top)
		for _, args := range p.subcommands(top) {
			h, _ := help(filepath.Join(dir, p.name), args...)
			texts = append(texts, h)
		}
		lines := 0
		for _, text := range texts {
			for _, l := range strings.Split(text, "\n") {
				l = words(strings.TrimPrefix(l, "usage: "))
				if l == "" {
					continue
				}
				lines++
				if !strings.Contains(rendered, l) {
					t.Errorf("%s: the help line %q is not in the page", file, l)
				}
			}
		}
		if len(texts) < 2 && p.name != "itiny-migrate" || lines < 20 {
			t.Errorf("%s: %d help texts, %d lines: the page is made of too little", file, len(texts), lines)
		}
	}
}

// overstrike is a character and a backspace, the bold of a terminal's
// man page where formatting is kept.
var overstrike = regexp.MustCompile(".\b")

// words returns s with its runs of white space made one space.
func words(s string) string { return strings.Join(strings.Fields(s), " ") }
