package view

import "github.com/itiny/itiny/codec"

// What other views (the report) show as the text view does.

// AppendMarker appends a marker item (a boot, a gap, damage, a record
// that does not decode) in words, as the text view prints it, uncoloured.
func AppendMarker(b []byte, it *Item) []byte { return appendMarker(b, it, false) }

// AppendValue appends a value for people, as the text view prints it:
// strings bare unless they hold a space, a quote, '=' or a control
// character; the rest as JSON.
func AppendValue(b []byte, v codec.Value) []byte { return appendText(b, v) }
