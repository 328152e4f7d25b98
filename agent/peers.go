package agent

import (
	"strconv"
	"sync"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// Accounting by peer. Whatever arrives on the ingest socket or the syslog
// socket is accounted to the user that sent it, as the kernel says
// (SO_PEERCRED, SCM_CREDENTIALS), never to a name the sender chose: one
// token bucket per uid (rate_limit records a second, burst the same),
// spent by every message, stored or not, before it is decoded; one count
// of connections per uid, for the socket's fair share (ingestconn.go);
// and the counts that stats report. A uid is forgotten when it has had no
// connection and sent nothing for peerExpire, so the table holds the
// users that are sending, at most maxPeers of them (the rest share one
// entry, "uid:other").
const (
	maxPeers   = 64
	peerExpire = 10 * time.Minute
)

type peer struct {
	uid   uint32
	name  string // "uid:N": the src of its records that name none
	conns int    // open on the ingest socket

	msgs  tokenBucket
	state tokenBucket // state.change tokens (rules.go)
	seen  time.Time   // last message or connection

	accepted, rejected, dropped uint64
	drops                       dropTally // not yet in an ingest.dropped event
}

// A dropReport is one ingest.dropped event to write.
type dropReport struct {
	name        string
	uid         uint32
	n           uint64
	first, last time.Time
}

type peerTable struct {
	a     *Agent
	mu    sync.Mutex
	m     map[uint32]*peer
	other *peer            // uids past maxPeers
	now   func() time.Time // nil is time.Now (tests set it)
}

const otherUID = 1<<32 - 1 // "uid:other"; no user has it (it is (uid_t)-1)

func (t *peerTable) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// get returns uid's entry, making it. Called with t.mu held.
func (t *peerTable) get(uid uint32, now time.Time) *peer {
	if p := t.m[uid]; p != nil {
		return p
	}
	if t.m == nil {
		t.m = map[uint32]*peer{}
	}
	if len(t.m) >= maxPeers || uid == otherUID {
		if t.other == nil {
			t.other = t.newPeer(otherUID, "uid:other", now)
		}
		return t.other
	}
	p := t.newPeer(uid, "uid:"+strconv.FormatUint(uint64(uid), 10), now)
	t.m[uid] = p
	return p
}

func (t *peerTable) newPeer(uid uint32, name string, now time.Time) *peer {
	p := &peer{uid: uid, name: name, seen: now}
	p.msgs.fill(now, float64(t.a.live.Load().RateLimit))
	p.state.fill(now, stateEventRate)
	return p
}

// connect counts a connection of uid and returns its entry.
func (t *peerTable) connect(uid uint32) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	p := t.get(uid, now)
	p.conns++
	p.seen = now
	return p
}

func (t *peerTable) disconnect(p *peer) {
	t.mu.Lock()
	p.conns--
	p.seen = t.clock()
	t.mu.Unlock()
}

// peerOf returns uid's entry, for a datagram (syslog).
func (t *peerTable) peerOf(uid uint32) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(uid, t.clock())
}

// take spends one of p's tokens for a message. A message without one is
// dropped, counted, and reported at most once per dropReportEvery; take
// writes the report when one is due.
func (t *peerTable) take(p *peer) bool {
	t.mu.Lock()
	now := t.clock()
	rate := float64(t.a.live.Load().RateLimit)
	p.seen = now
	ok := p.msgs.take(now, rate, rate)
	if !ok {
		p.dropped++
		p.drops.add(now)
	}
	rep, due := p.report(now, false)
	t.mu.Unlock()
	if due {
		t.a.reportDrops(rep)
	}
	return ok
}

// report returns p's pending drops as a report if one is due (force: at
// close), and marks them reported. Called with t.mu held.
func (p *peer) report(now time.Time, force bool) (dropReport, bool) {
	n, first, last, ok := p.drops.due(now, force)
	if !ok {
		return dropReport{}, false
	}
	return dropReport{name: p.name, uid: p.uid, n: n, first: first, last: last}, true
}

// count counts a message that had a token: stored, or rejected.
func (t *peerTable) count(p *peer, stored bool) {
	t.mu.Lock()
	if stored {
		p.accepted++
	} else {
		p.rejected++
	}
	t.mu.Unlock()
}

// takeState spends one of p's state.change tokens (rules.go).
func (t *peerTable) takeState(p *peer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return p.state.take(t.clock(), stateEventRate, stateEventRate)
}

// sweep returns a copy of every entry, sorted by uid, and the drop
// reports due (all of them with force); it forgets the entries idle for
// peerExpire, after this last copy.
func (t *peerTable) sweep(force bool) ([]peer, []dropReport) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	var ps []peer
	var reps []dropReport
	visit := func(p *peer) {
		if r, ok := p.report(now, force); ok {
			reps = append(reps, r)
		}
		ps = append(ps, *p)
	}
	for uid, p := range t.m {
		visit(p)
		if p.conns == 0 && p.drops.pending == 0 && now.Sub(p.seen) >= peerExpire {
			delete(t.m, uid)
		}
	}
	if t.other != nil {
		visit(t.other)
	}
	// By uid; by hand: sort.Slice costs the firmware 4 KB.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].uid < ps[j-1].uid; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	return ps, reps
}

// reportDrops writes one ingest.dropped event: the records of a peer that
// its rate limit dropped, how many, from when to when.
func (a *Agent) reportDrops(r dropReport) {
	f := a.selfFields()
	addString(f, "peer", r.name)
	addUint(f, "dropped", r.n)
	addString(f, "first", r.first.UTC().Format(time.RFC3339Nano))
	addFloat(f, "span_s", r.last.Sub(r.first).Seconds())
	a.noteFields(StreamEvents, catalog.IngestDropped.Name, codec.LevelWarning)
}
