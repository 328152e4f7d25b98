// Package version holds itiny's version: one string for the agent (its
// agent.start record and `itiny version`), itiny-read and itiny-migrate
// (`--version`).
package version

// String is the version of this build.
const String = "0.1.0-dev"
