package msgpack

// Skip passes over the item at the start of b, with everything it holds,
// and returns the bytes after it. It takes no stack for nesting, however
// deep: it counts the items still to pass, which can never exceed the
// bytes left, as each takes one at least.
func Skip(b []byte) ([]byte, error) {
	for todo := 1; todo > 0; todo-- {
		if todo > len(b) {
			return nil, ErrShort
		}
		n, items, err := itemSize(b)
		if err != nil {
			return nil, err
		}
		if n > len(b) {
			return nil, ErrShort
		}
		b = b[n:]
		todo += items
	}
	return b, nil
}

// itemSize returns the bytes of the item at the start of b, its children
// left out, and how many children follow it.
func itemSize(b []byte) (n, items int, err error) {
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return 1, 0, nil
	case c <= 0x8f:
		return 1, 2 * int(c&0x0f), nil
	case c <= 0x9f:
		return 1, int(c & 0x0f), nil
	case c <= 0xbf:
		return 1 + int(c&0x1f), 0, nil
	case c == 0xc1:
		return 0, 0, ErrInvalid
	case c >= 0xcc && c <= 0xd3: // numbers
		return 1 + 1<<((c-0xcc)&3), 0, nil
	case c == 0xca:
		return 5, 0, nil
	case c == 0xcb:
		return 9, 0, nil
	case c >= 0xd4 && c <= 0xd8: // fixext
		return 2 + 1<<(c-0xd4), 0, nil
	}
	// A length follows the lead byte: 1, 2 or 4 bytes of it.
	var w int
	switch c {
	case 0xc4, 0xc7, 0xd9:
		w = 1
	case 0xc5, 0xc8, 0xda, 0xdc, 0xde:
		w = 2
	default: // 0xc6, 0xc9, 0xdb, 0xdd, 0xdf
		w = 4
	}
	if len(b) < 1+w {
		return 0, 0, ErrShort
	}
	var v uint64
	for _, x := range b[1 : 1+w] {
		v = v<<8 | uint64(x)
	}
	if v > uint64(len(b)) { // more than there is: also keeps int from overflowing
		return 0, 0, ErrShort
	}
	switch c {
	case 0xdc, 0xdd:
		return 1 + w, int(v), nil
	case 0xde, 0xdf:
		return 1 + w, 2 * int(v), nil
	case 0xc7, 0xc8, 0xc9:
		return 2 + w + int(v), 0, nil // and the type byte
	}
	return 1 + w + int(v), 0, nil
}
