// Command empty is the baseline for size.sh: the smallest Go program,
// whose size is the runtime's alone.
package main

func main() {}
