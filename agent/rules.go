package agent

import (
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// Derived notifications. A rule watches one numeric field of the records of
// one name, separately for each instance (the value of the record's first
// string field: a mount point, an interface), and writes an event to the
// events stream when the value has been past its limit for For samples,
// and another when it comes back past Clear (hysteresis). A rule instance
// fires at most once per refire interval. Records written to the state
// stream at notice level or above also become events ("state.change").
//
// Rules take only the records of the agent's collectors and of the
// embedding program: a record from the socket or syslog, whatever it is
// named, neither feeds nor blinds one. Such a record still becomes a
// state.change, spending its sender's tokens (peers.go), never the
// collectors'. A rule keeps at most maxRuleInstances instances, of names
// at most maxInstanceLen bytes; an instance not seen for ruleExpire is
// forgotten, and when the table is full the one seen longest ago makes
// way, so a new instance is always watched.
type ruleSet struct {
	mu    sync.Mutex
	rules []*rule
	rec   codec.Record // the events rules write, reused
	// state-change events: a token bucket, so a flapping component
	// cannot flood the events stream.
	tokens  tokenBucket
	pending []pendingEvent
}

type rule struct {
	RuleConfig
	event      string // "rule.<name>"
	matchKey   string
	matchValue string
	inst       map[string]*ruleState
	swept      time.Time // instances not seen for ruleExpire last forgotten
}

type ruleState struct {
	count  int  // consecutive samples past the limit
	active bool // fired and not yet cleared
	last   time.Time
	seen   time.Time
}

type pendingEvent struct {
	name     string
	level    codec.Level
	rule     string
	instance string
	value    float64
	limit    float64
	cleared  bool
}

const (
	maxRuleInstances = 1024
	maxInstanceLen   = 256
	ruleExpire       = time.Hour
	ruleRefire       = time.Minute
	stateEventRate   = 10 // per second, burst the same
)

func newRuleSet(cfgs []RuleConfig) *ruleSet {
	rs := &ruleSet{}
	rs.tokens.fill(time.Now(), stateEventRate)
	for _, c := range cfgs {
		if c.Off {
			continue
		}
		r := &rule{RuleConfig: c, event: "rule." + c.Name, inst: map[string]*ruleState{}}
		if c.Match != "" {
			r.matchKey, r.matchValue, _ = strings.Cut(c.Match, "=")
		}
		rs.rules = append(rs.rules, r)
	}
	return rs
}

// watches reports, without allocating, whether a record of this stream and
// name needs observe; a peer's (socket, syslog) only for state.change.
func (rs *ruleSet) watches(stream, name string, peer bool) bool {
	if stream == StreamState {
		return true
	}
	if peer {
		return false
	}
	for _, r := range rs.rules {
		if r.Record == name && (r.Stream == "" || r.Stream == stream) {
			return true
		}
	}
	return false
}

// observe checks the record, from peer p (nil: a collector's or the
// embedding program's), against the rules and writes what they derive.
func (rs *ruleSet) observe(a *Agent, stream string, rec *codec.Record, p *peer) {
	if rec == &rs.rec {
		return // never derive from derived events (and never relock rs.mu)
	}
	rs.mu.Lock()
	now := time.Now()
	if stream == StreamState && rec.Level <= codec.LevelNotice {
		if p == nil && rs.take(now) || p != nil && a.peers.takeState(p) {
			rs.pending = append(rs.pending, pendingEvent{name: catalog.StateChange.Name, level: rec.Level, rule: rec.Name, instance: rec.Source})
		}
	}
	for _, r := range rs.rules {
		if p != nil || r.Record != rec.Name || r.Stream != "" && r.Stream != stream {
			continue
		}
		v, inst, ok := r.extract(rec)
		if !ok {
			continue
		}
		if len(inst) > maxInstanceLen {
			n := maxInstanceLen
			for n > 0 && !utf8.RuneStart(inst[n]) {
				n--
			}
			inst = inst[:n]
		}
		st := r.inst[inst]
		if st == nil {
			st = r.newInstance(inst, now)
		}
		st.seen = now
		past := v > r.Limit
		safe := v <= r.Clear
		if !r.Above {
			past, safe = v < r.Limit, v >= r.Clear
		}
		switch {
		case past:
			st.count++
			if !st.active && st.count >= r.For && now.Sub(st.last) >= ruleRefire {
				st.active, st.last = true, now
				rs.pending = append(rs.pending, pendingEvent{r.event, r.Level, r.Name, inst, v, r.Limit, false})
			}
		case safe:
			st.count = 0
			if st.active {
				st.active = false
				rs.pending = append(rs.pending, pendingEvent{r.event, codec.LevelNotice, r.Name, inst, v, r.Clear, true})
			}
		default: // between Clear and the limit: hold
			st.count = 0
		}
	}
	pending := rs.pending
	rs.pending = rs.pending[:0]
	// Write with the lock held (rs.rec is shared) but after the state
	// changes: Emit to the events stream does not come back here unless a
	// rule watches events, and derived events are skipped above.
	for _, p := range pending {
		rs.write(a, p, rec)
	}
	rs.mu.Unlock()
}

func (rs *ruleSet) write(a *Agent, p pendingEvent, src *codec.Record) {
	r := &rs.rec
	*r = codec.Record{Source: selfSource, Name: p.name, Level: p.level, Fields: r.Fields[:0]}
	if p.name == catalog.StateChange.Name {
		addString(&r.Fields, "source", src.Source)
		addString(&r.Fields, "state", src.Name)
		for _, f := range src.Fields {
			// The cause's own "source" or "state" (a process's) would
			// repeat a key, and readers drop such a record.
			if len(r.Fields) < 16 && f.Key != "source" && f.Key != "state" {
				r.Fields = append(r.Fields, f)
			}
		}
	} else {
		addString(&r.Fields, "rule", p.rule)
		addString(&r.Fields, "instance", p.instance)
		addFloat(&r.Fields, "value", p.value)
		addFloat(&r.Fields, "limit", p.limit)
		addBool(&r.Fields, "cleared", p.cleared)
	}
	if err := a.Emit(StreamEvents, r); err != nil {
		a.log.Printf("rule event %s: %v", p.name, err)
	}
}

// newInstance adds an instance to r. It forgets first, at most once per
// ruleExpire or when r holds maxRuleInstances, the instances not seen for
// ruleExpire, and if r is still full, the one seen longest ago.
func (r *rule) newInstance(inst string, now time.Time) *ruleState {
	if len(r.inst) >= maxRuleInstances || now.Sub(r.swept) >= ruleExpire {
		r.swept = now
		oldest, found := "", false
		for k, st := range r.inst {
			if now.Sub(st.seen) >= ruleExpire {
				delete(r.inst, k)
			} else if !found || st.seen.Before(r.inst[oldest].seen) {
				oldest, found = k, true
			}
		}
		if len(r.inst) >= maxRuleInstances {
			delete(r.inst, oldest)
		}
	}
	st := &ruleState{}
	// inst may be a view of a receive buffer: the map keeps a copy.
	r.inst[strings.Clone(inst)] = st
	return st
}

// take spends a state-change token, refilling at stateEventRate.
func (rs *ruleSet) take(now time.Time) bool {
	return rs.tokens.take(now, stateEventRate, stateEventRate)
}

// extract returns the rule's field as a number and the record's instance.
func (r *rule) extract(rec *codec.Record) (v float64, inst string, ok bool) {
	found, matched := false, r.matchKey == ""
	for _, f := range rec.Fields {
		if inst == "" && f.Value.Kind() == codec.KindString {
			inst = f.Value.Str()
		}
		if r.matchKey != "" && f.Key == r.matchKey {
			if f.Value.Kind() != codec.KindString || f.Value.Str() != r.matchValue {
				return 0, "", false
			}
			matched = true
		}
		if f.Key == r.Field {
			switch f.Value.Kind() {
			case codec.KindInt:
				v, found = float64(f.Value.Int()), true
			case codec.KindUint:
				v, found = float64(f.Value.Uint()), true
			case codec.KindFloat:
				v, found = f.Value.Float(), true
			}
		}
	}
	return v, inst, found && matched
}
