// Package readme holds only a test: every shell example in the
// repository's README.md runs as written, in a directory the test
// prepares (readme_test.go says how).
package readme
