package ringlog

// crashPoint, set only by tests, is called between the steps of Open and
// of rotation that a crash can fall between; a test's child process kills
// itself there, to prove that every state those steps leave on disk
// recovers without losing or skipping a number (crash_test.go). The
// flusher reaches "flush-sync" before it syncs a flushed segment outside
// mu, where a test looks at what a rotation meanwhile would find.
var crashPoint func(step string)

func reached(step string) {
	if crashPoint != nil {
		crashPoint(step)
	}
}
