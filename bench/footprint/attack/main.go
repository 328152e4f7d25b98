// Command attack drives the hostile senders of issue 12 section 1 at a
// running itiny agent, for bench/attack.sh: what the agent's memory does
// under attack, against its memory at 1,000 records/s.
//
//	attack -socket DATA/itiny.sock [-syslog PATH] -duration 30s [-conns 72]
//
// For the whole duration, at once:
//
//   - -conns connections (more than the agent serves, so some are refused
//     and dial again) each send, as fast as the agent answers, the records
//     of package hostile, which the agent must decode and reject;
//   - one goroutine connects, sends one such record and closes, in a loop;
//   - with -syslog, one goroutine floods the syslog socket with datagrams
//     of 8 KiB, of new tags each time and invalid UTF-8.
//
// At the end it prints one line of key=value figures, e.g.
//
//	attack sent=250000 answered=249000 refused=1000 churned=30000 syslog=500000 seconds=30.00
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/internal/hostile"
)

func main() {
	socket := flag.String("socket", "itiny-data/itiny.sock", "the agent's ingest socket")
	syslog := flag.String("syslog", "", "the agent's syslog socket, if on")
	dur := flag.Duration("duration", 30*time.Second, "how long to attack")
	conns := flag.Int("conns", 72, "connections sending at once")
	flag.Parse()
	msgs := hostile.Records()
	end := time.Now().Add(*dur)
	var sent, answered, refused, churned, datagrams atomic.Int64
	var wg sync.WaitGroup
	send := func(c *agent.Client, m []byte) bool {
		sent.Add(1)
		_, err := c.SendRaw(m)
		switch {
		case err == nil:
			fmt.Fprintln(os.Stderr, "attack: a hostile record was stored")
		case strings.Contains(err.Error(), "too many connections"):
			refused.Add(1)
			return false
		case strings.Contains(err.Error(), "agent refused the record"):
			answered.Add(1)
		default:
			return false // closed: dial again
		}
		return true
	}
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; time.Now().Before(end); {
				c, err := agent.Dial(*socket)
				if err != nil {
					fmt.Fprintln(os.Stderr, "attack:", err)
					os.Exit(1)
				}
				for ; time.Now().Before(end) && send(c, msgs[n%len(msgs)]); n++ {
				}
				c.Close()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; time.Now().Before(end); n++ {
			if c, err := agent.Dial(*socket); err == nil {
				send(c, msgs[n%len(msgs)])
				c.Close()
				churned.Add(1)
			}
		}
	}()
	if *syslog != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "attack:", err)
				os.Exit(1)
			}
			to := &syscall.SockaddrUnix{Name: *syslog}
			body := bytes.Repeat([]byte("spam \xff\xfe "), 8<<10/7)
			for n := 0; time.Now().Before(end); n++ {
				d := append(fmt.Appendf(nil, "<11>tag%d-%s: ", n, strings.Repeat("t", 40)), body...)
				if syscall.Sendto(fd, d[:min(len(d), 8<<10)], 0, to) == nil {
					datagrams.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	fmt.Printf("attack sent=%d answered=%d refused=%d churned=%d syslog=%d seconds=%.2f\n",
		sent.Load(), answered.Load(), refused.Load(), churned.Load(), datagrams.Load(), time.Since(start).Seconds())
}
