package codec

import ("testing";"time";"math";"encoding/json")

func smokeRec() *Record {
	return &Record{Seq: 42, Stream: "metrics", Boot: BootID{1,2,3}, BootCount: 3, Wall: time.Unix(1764000000, 123456789).UTC(), Mono: 99, Source: "cpu", Level: LevelWarning, Name: "cpu.usage",
		Fields: Fields{{"user", Float(12.5)}, {"n", Int(-3)}, {"big", Uint(math.MaxUint64)}, {"ok", Bool(true)}, {"s", String("a\"b\n\xff")}, {"b", Bytes([]byte{0,1,2})}, {"nan", Float(math.NaN())}, {"l", List(Int(1), String("x"))}, {"m", Map(Field{"k", Float(1)})}}}
}
func TestSmoke(t *testing.T) {
	r := smokeRec()
	for _, c := range []Codec{Msgpack, JSON} {
		b, err := c.Append(nil, r)
		if err != nil { t.Fatal(err) }
		if c == JSON { t.Logf("%s", b); if !json.Valid(b) { t.Fatal("invalid json") } }
		var got Record
		if err := c.Decode(b, &got); err != nil { t.Fatal(c, err) }
		t.Logf("%s: %d bytes, %+v", c, len(b), got.Fields)
	}
	buf := make([]byte, 0, 4096)
	a := testing.AllocsPerRun(100, func(){ buf, _ = r.MarshalMsg(buf[:0]) })
	j := testing.AllocsPerRun(100, func(){ buf, _ = AppendJSON(buf[:0], r) })
	t.Log("allocs", a, j)
}
