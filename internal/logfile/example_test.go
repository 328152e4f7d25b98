package logfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/itiny/itiny/internal/logfile"
)

// A log of at most 64 bytes a file, one backup kept.
func Example() {
	dir, _ := os.MkdirTemp("", "logfile")
	defer os.RemoveAll(dir)
	w, err := logfile.Open(filepath.Join(dir, "itiny.log"), 64, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 5 {
		fmt.Fprintf(w, "itiny: line %d of the diagnostic log\n", i)
	}
	w.Close()
	for _, name := range []string{"itiny.log.1", "itiny.log"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		fmt.Printf("%s:\n%s", name, b)
	}
	// Output:
	// itiny.log.1:
	// itiny: line 3 of the diagnostic log
	// itiny.log:
	// itiny: line 4 of the diagnostic log
}
