// Command hostile writes the support bundles made to take a reader's
// memory (internal/hostile) into a directory, for bench/hostile.sh.
package main

import (
	"fmt"
	"os"

	"github.com/itiny/itiny/internal/hostile"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hostile DIR")
		os.Exit(2)
	}
	bs, err := hostile.Write(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
	for _, b := range bs {
		fmt.Println(b.Name)
	}
}
