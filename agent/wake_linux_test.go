package agent

import (
	"testing"
	"time"
)

// TestSleeper: a sleep lasts at least until its time, on the timerfd and
// without one, and allocates nothing; closing stop and calling wake ends a
// sleep under way and every later one.
func TestSleeper(t *testing.T) {
	for _, timerfd := range []bool{true, false} {
		stop := make(chan struct{})
		s := newSleeper(stop)
		if s.f == nil {
			t.Fatal("no timerfd on Linux")
		}
		if !timerfd {
			s.ok = false
		}
		start := time.Now()
		if !s.sleep(start.Add(-time.Second)) || !s.sleep(start) {
			t.Fatalf("timerfd %v: a sleep until a past time did not return true", timerfd)
		}
		for _, d := range []time.Duration{time.Millisecond, 20 * time.Millisecond} {
			start := time.Now()
			if !s.sleep(start.Add(d)) {
				t.Fatalf("timerfd %v: sleep %v: stopped", timerfd, d)
			}
			if el := time.Since(start); el < d {
				t.Errorf("timerfd %v: sleep %v returned after %v", timerfd, d, el)
			}
		}
		if n := testing.AllocsPerRun(20, func() { s.sleep(time.Now().Add(50 * time.Microsecond)) }); n != 0 {
			t.Errorf("timerfd %v: %v allocations per sleep", timerfd, n)
		}
		if timerfd && !s.ok {
			t.Fatal("the timerfd failed")
		}
		done := make(chan bool)
		go func() { done <- s.sleep(time.Now().Add(time.Hour)) }()
		time.Sleep(10 * time.Millisecond)
		close(stop)
		s.wake()
		select {
		case ok := <-done:
			if ok {
				t.Errorf("timerfd %v: a sleep ended by stop returned true", timerfd)
			}
		case <-time.After(eventWait):
			t.Fatalf("timerfd %v: closing stop did not end the sleep", timerfd)
		}
		if s.sleep(time.Now()) {
			t.Errorf("timerfd %v: a sleep after stop returned true", timerfd)
		}
	}
}

// TestSleeperFallback: a timerfd that fails (here: closed under it) makes
// the sleeper go on without.
func TestSleeperFallback(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	s := newSleeper(stop)
	if s.f == nil {
		t.Fatal("no timerfd on Linux")
	}
	s.f.Close() // as if it failed
	start := time.Now()
	if !s.sleep(start.Add(5 * time.Millisecond)) {
		t.Fatal("stopped")
	}
	if s.ok {
		t.Errorf("after a failed timerfd: still on it")
	}
	if el := time.Since(start); el < 5*time.Millisecond {
		t.Errorf("sleep 5ms returned after %v", el)
	}
}
