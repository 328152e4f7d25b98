//go:build itinyprofhook

// This file is not built on its own: bench/migrate.sh compiles it into a
// variant of cmd/itiny-migrate (go build -tags itinyprofhook -overlay),
// beside a copy of cmd/itiny-migrate/main.go whose main is renamed
// itinyMain, so that the variant writes a CPU profile of the whole run
// to $ITINY_MIGRATE_CPUPROFILE. The source tree is not changed.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

func main() {
	path := os.Getenv("ITINY_MIGRATE_CPUPROFILE")
	if path == "" {
		itinyMain()
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profhook:", err)
		os.Exit(3)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profhook:", err)
		os.Exit(3)
	}
	// itinyMain exits with os.Exit only on failure: a profile of a failed
	// run is lost, which is fine for a benchmark.
	itinyMain()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "profhook:", err)
		os.Exit(3)
	}
}
