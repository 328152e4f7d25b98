// Package datadir holds the one definition of the agent's data directory
// when none is given: the agent (itiny run, itiny emit) and the readers
// (itiny-read, itiny-migrate) must agree on it.
package datadir

import "os"

// Env names the environment variable that sets the default.
const Env = "ITINY_DATA"

// Fallback is the data directory when Env is unset or empty.
const Fallback = "/var/lib/itiny"

// Default returns $ITINY_DATA, else /var/lib/itiny.
func Default() string {
	if d := os.Getenv(Env); d != "" {
		return d
	}
	return Fallback
}
