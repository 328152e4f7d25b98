package readme

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// An example is one command of a shell block of the README.
type example struct {
	line  int    // its line number in the README, from 1
	block int    // which shell block, from 0: a cd lasts to the block's end
	text  string // as written, comment and all
}

func (e example) String() string { return fmt.Sprintf("README.md:%d: %s", e.line, e.text) }

// examples reads every line of every ```sh block of the README at path,
// in order. Blank lines and lines that are only a comment are not
// commands; a line ending in a backslash goes on on the next.
func examples(path string) ([]example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []example
	in, block := false, -1
	var cont *example
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case !in && strings.TrimSpace(l) == "```sh":
			in, block = true, block+1
			continue
		case in && strings.TrimSpace(l) == "```":
			if cont != nil {
				return nil, fmt.Errorf("%s:%d: the block ends after a backslash", path, cont.line)
			}
			in = false
			continue
		case !in:
			continue
		}
		if cont != nil {
			cont.text += "\n" + l
		} else {
			t := strings.TrimSpace(l)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			out = append(out, example{line: n, block: block, text: l})
			cont = &out[len(out)-1]
		}
		if !strings.HasSuffix(l, `\`) {
			cont = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if in {
		return nil, fmt.Errorf("%s: a ```sh block is not closed", path)
	}
	return out, nil
}

// TestExamples: only ```sh blocks count, comment-only and blank lines are
// not commands, a backslash joins the next line, and each block is known.
func TestExamples(t *testing.T) {
	for _, tc := range []struct {
		name, md string
		want     []example
		err      bool
	}{
		{"sh blocks only", "text\n```sh\na  # one\n\n# only a comment\nb\n```\n```go\nc\n```\n```\nd\n```\n```sh\ne\n```\n",
			[]example{{3, 0, "a  # one"}, {6, 0, "b"}, {15, 1, "e"}}, false},
		{"continued", "```sh\na \\\n  b\nc\n```\n", []example{{2, 0, "a \\\n  b"}, {4, 0, "c"}}, false},
		{"not closed", "```sh\na\n", nil, true},
		{"backslash at the end", "```sh\na \\\n```\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "README.md")
			if err := os.WriteFile(path, []byte(tc.md), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := examples(path)
			if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, %v; want %q, error %t", got, err, tc.want, tc.err)
			}
		})
	}
}
