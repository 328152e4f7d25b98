package codec

import (
	"math"
	"testing"
)

// TestFieldsSet checks that each setter stores what its constructor
// makes, over a field that held another kind (a string, whose reference
// the store must drop) and leaves the key and the other fields alone.
func TestFieldsSet(t *testing.T) {
	tests := []struct {
		name string
		set  func(Fields)
		want Value
	}{
		{"int", func(f Fields) { f.SetInt(1, -7) }, Int(-7)},
		{"uint small", func(f Fields) { f.SetUint(1, 7) }, Uint(7)},
		{"uint large", func(f Fields) { f.SetUint(1, math.MaxUint64) }, Uint(math.MaxUint64)},
		{"float", func(f Fields) { f.SetFloat(1, 2.5) }, Float(2.5)},
		{"float nan", func(f Fields) { f.SetFloat(1, math.NaN()) }, Float(math.NaN())},
		{"bool true", func(f Fields) { f.SetBool(1, true) }, Bool(true)},
		{"bool false", func(f Fields) { f.SetBool(1, false) }, Bool(false)},
		{"string", func(f Fields) { f.SetString(1, "eth0") }, String("eth0")},
		{"string empty", func(f Fields) { f.SetString(1, "") }, String("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Fields{{Key: "a", Value: Int(1)}, {Key: "b", Value: String("old")}, {Key: "c", Value: Bool(true)}}
			tt.set(f)
			want := Fields{{Key: "a", Value: Int(1)}, {Key: "b", Value: tt.want}, {Key: "c", Value: Bool(true)}}
			if !f.Equal(want) {
				t.Fatalf("got %v, want %v", f, want)
			}
			if f[1].Value.Kind() != tt.want.Kind() {
				t.Fatalf("kind %v, want %v", f[1].Value.Kind(), tt.want.Kind())
			}
			b, err := f.MarshalMsg(nil)
			if err != nil {
				t.Fatal(err)
			}
			wb, _ := want.MarshalMsg(nil)
			if string(b) != string(wb) {
				t.Fatalf("encoded % x, want % x", b, wb)
			}
		})
	}
}
