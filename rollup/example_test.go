package rollup_test

import (
	"fmt"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/rollup"
)

func ExampleRoller() {
	ro := rollup.New(time.Minute)
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	print := func(r *codec.Record) error {
		fmt.Print(r.Name, " ", r.Wall.Format("15:04"))
		for _, f := range r.Fields {
			v, _ := codec.AppendValueJSON(nil, f.Value)
			fmt.Printf(" %s=%s", f.Key, v)
		}
		fmt.Println()
		return nil
	}
	for i, v := range []float64{0.5, 1.5, 1.0, 2.0} { // the fourth opens the next minute
		r := codec.Record{Name: "load", Boot: codec.BootID{1}, Wall: t0.Add(time.Duration(i) * 25 * time.Second), Mono: int64(i+1) * 25e9,
			Fields: codec.Fields{{Key: "load1", Value: codec.Float(v)}}}
		ro.Add(&r, print)
	}
	// Output: load 10:00 load1=1.0 load1_min=0.5 load1_max=1.5 load1_last=1.0 samples=3
}
