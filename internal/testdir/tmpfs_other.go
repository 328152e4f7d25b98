//go:build !linux

package testdir

func isTmpfs(string) bool { return false }
