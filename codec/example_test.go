package codec_test

import (
	"fmt"
	"time"

	"github.com/itiny/itiny/codec"
)

// Example_roundTrip encodes a record as JSON and decodes it back.
func Example_roundTrip() {
	r := &codec.Record{
		Seq:       42,
		Stream:    "metrics",
		Boot:      codec.BootID{0x01, 0x02, 15: 0xff},
		BootCount: 3,
		Wall:      time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Mono:      1500000000,
		Source:    "cpu",
		Level:     codec.LevelInfo,
		Name:      "cpu.usage",
		Fields: codec.Fields{
			{Key: "user", Value: codec.Float(12.5)},
			{Key: "cores", Value: codec.Int(4)},
			{Key: "idle", Value: codec.Float(1)},
			{Key: "raw", Value: codec.Bytes([]byte("hi"))},
		},
	}
	b, err := codec.JSON.Append(nil, r)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", b)

	var got codec.Record
	if err := codec.JSON.Decode(b, &got); err != nil {
		panic(err)
	}
	user := got.Fields[0]
	fmt.Println(user.Key, user.Value.Kind(), user.Value.Float())
	idle := got.Fields[2]
	fmt.Println(idle.Key, idle.Value.Kind(), idle.Value.Float())
	fmt.Println(got.Wall.Equal(r.Wall), got.Fields.Equal(r.Fields))
	// Output:
	// {"seq":42,"stream":"metrics","boot":"010200000000000000000000000000ff","bootn":3,"wall":"2026-01-02T03:04:05.000000006Z","mono":1500000000,"src":"cpu","level":"info","name":"cpu.usage","fields":{"user":12.5,"cores":4,"idle":1.0,"raw":{"$base64":"aGk="}}}
	// user float 12.5
	// idle float 1
	// true true
}

func ExampleRecord_Validate() {
	for _, r := range []*codec.Record{
		{Stream: "metrics", Fields: codec.Fields{{Key: "ok", Value: codec.Int(1)}}},
		{Stream: "Metrics"},
		{Stream: "metrics", Level: 8},
		{Fields: codec.Fields{{Key: "$float", Value: codec.Int(1)}}},
		{Fields: codec.Fields{{Key: "a", Value: codec.Int(1)}, {Key: "a", Value: codec.Int(2)}}},
		{Name: "bad \xff"},
	} {
		fmt.Println(r.Validate())
	}
	// Output:
	// <nil>
	// codec: invalid stream name "Metrics"
	// codec: invalid level 8
	// codec: key "$float" starts with '$', which is reserved
	// codec: duplicate key "a"
	// codec: name is not valid UTF-8
}
