// Package tinyfmt formats as package fmt does, for the verbs and operand
// types the agent's messages use, without fmt's reflection: linking fmt
// (and through it reflect's method tables) cost the stripped agent
// 217 KB (docs/DESIGN.md section 14).
//
// The verbs are %v %s %q %d %x %X %o %t %f %e %g %w and %%, with fmt's
// flags (+ - # 0 space), width and precision. The operands are the
// predeclared types bool, string, []byte, []string, the integers and the
// floats, and any type that implements error or String() string, which
// %v, %s, %q, %x and %X format by that method as fmt does. Anything else
// — a named integer without a String method, a struct, an array — comes
// out as %!v(BADTYPE): fmt would find its value by reflection, this
// package cannot. A test type-checks every call in the agent's packages
// against these rules (callsites_test.go), so none reaches a user.
//
// Errorf wraps its %w operands as fmt.Errorf does: errors.Is and
// errors.As see through the result.
package tinyfmt

import (
	"errors"
	"io"
	"os"
	"strconv"
	"unicode/utf8"
)

// Stringer is fmt.Stringer.
type Stringer interface{ String() string }

// Appendf formats according to format and appends the result to b.
func Appendf(b []byte, format string, a ...any) []byte {
	p := printer{buf: b}
	p.printf(format, a)
	return p.buf
}

// Sprintf formats according to format and returns the string.
func Sprintf(format string, a ...any) string {
	p := printer{}
	p.printf(format, a)
	return string(p.buf)
}

// Fprintf formats according to format and writes the result to w in one
// Write.
func Fprintf(w io.Writer, format string, a ...any) (int, error) {
	p := printer{}
	p.printf(format, a)
	return w.Write(p.buf)
}

// Fprintln writes its operands in the %v form, separated by spaces and
// followed by a newline, to w in one Write.
func Fprintln(w io.Writer, a ...any) (int, error) {
	p := printer{wid: -1, prec: -1}
	for i, arg := range a {
		if i > 0 {
			p.buf = append(p.buf, ' ')
		}
		p.arg(arg, 'v')
	}
	p.buf = append(p.buf, '\n')
	return w.Write(p.buf)
}

// Println is Fprintln to standard output.
func Println(a ...any) (int, error) { return Fprintln(os.Stdout, a...) }

// Errorf formats according to format and returns the string as an error.
// Each %w operand, which must be an error, is wrapped: the result's
// Unwrap returns it, or all of them when there are several.
func Errorf(format string, a ...any) error {
	p := printer{wrap: true}
	p.printf(format, a)
	s := string(p.buf)
	switch len(p.wrapped) {
	case 0:
		return errors.New(s)
	case 1:
		return &wrapError{s, p.wrapped[0]}
	}
	return &wrapErrors{s, p.wrapped}
}

type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

type wrapErrors struct {
	msg  string
	errs []error
}

func (e *wrapErrors) Error() string   { return e.msg }
func (e *wrapErrors) Unwrap() []error { return e.errs }

// printer holds one formatting's output and the current verb's flags.
type printer struct {
	buf     []byte
	wrap    bool    // Errorf: %w wraps
	wrapped []error // the %w operands, in order

	plus, minus, sharp, space, zero bool
	wid, prec                       int // -1: none
}

func (p *printer) printf(format string, a []any) {
	n := 0 // the next operand
	for i := 0; i < len(format); {
		if format[i] != '%' {
			j := i + 1
			for j < len(format) && format[j] != '%' {
				j++
			}
			p.buf = append(p.buf, format[i:j]...)
			i = j
			continue
		}
		i++
		p.plus, p.minus, p.sharp, p.space, p.zero = false, false, false, false, false
	flags:
		for ; i < len(format); i++ {
			switch format[i] {
			case '+':
				p.plus = true
			case '-':
				p.minus = true
			case '#':
				p.sharp = true
			case ' ':
				p.space = true
			case '0':
				p.zero = true
			default:
				break flags
			}
		}
		p.wid, i = number(format, i)
		p.prec = -1
		if i < len(format) && format[i] == '.' {
			if p.prec, i = number(format, i+1); p.prec < 0 {
				p.prec = 0
			}
		}
		if i >= len(format) {
			p.buf = append(p.buf, "%!(NOVERB)"...)
			break
		}
		verb, size := rune(format[i]), 1
		if verb >= utf8.RuneSelf {
			verb, size = utf8.DecodeRuneInString(format[i:])
		}
		i += size
		switch {
		case verb == '%':
			p.buf = append(p.buf, '%')
		case n >= len(a):
			p.bad(verb, "MISSING")
		default:
			p.arg(a[n], verb)
			n++
		}
	}
	if n < len(a) {
		p.buf = append(p.buf, "%!(EXTRA)"...)
	}
}

// number parses the decimal number at s[i:], returning -1 if there is none.
func number(s string, i int) (int, int) {
	n := -1
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if n < 0 {
			n = 0
		}
		if n < 1e6 {
			n = n*10 + int(s[i]-'0')
		}
	}
	return n, i
}

func (p *printer) bad(verb rune, what string) {
	p.buf = append(p.buf, "%!"...)
	p.buf = utf8.AppendRune(p.buf, verb)
	p.buf = append(p.buf, '(')
	p.buf = append(p.buf, what...)
	p.buf = append(p.buf, ')')
}

func (p *printer) arg(a any, verb rune) {
	if verb == 'v' {
		if p.sharp { // Go syntax needs reflection
			p.bad(verb, "BADFLAG")
			return
		}
		p.plus = false // %+v is fmt's field names, not a sign
	}
	if verb == 'w' {
		err, ok := a.(error)
		if !ok || !p.wrap || err == nil {
			p.bad(verb, "BADTYPE")
			return
		}
		p.wrapped = append(p.wrapped, err)
		verb = 'v'
	}
	switch v := a.(type) {
	case nil:
		if verb == 'v' {
			p.pad("<nil>")
		} else {
			p.bad(verb, "<nil>")
		}
	case bool:
		if verb == 't' || verb == 'v' {
			p.pad(strconv.FormatBool(v))
		} else {
			p.bad(verb, "BADTYPE")
		}
	case string:
		p.str(v, verb)
	case []byte:
		if verb == 'v' { // fmt's [97 98 99]
			p.bad(verb, "BADTYPE")
			return
		}
		p.str(string(v), verb)
	case []string:
		if verb != 'v' {
			p.bad(verb, "BADTYPE")
			return
		}
		p.buf = append(p.buf, '[')
		for i, s := range v {
			if i > 0 {
				p.buf = append(p.buf, ' ')
			}
			p.buf = append(p.buf, s...)
		}
		p.buf = append(p.buf, ']')
	case int:
		p.int(uint64(v), true, verb)
	case int8:
		p.int(uint64(v), true, verb)
	case int16:
		p.int(uint64(v), true, verb)
	case int32:
		p.int(uint64(v), true, verb)
	case int64:
		p.int(uint64(v), true, verb)
	case uint:
		p.int(uint64(v), false, verb)
	case uint8:
		p.int(uint64(v), false, verb)
	case uint16:
		p.int(uint64(v), false, verb)
	case uint32:
		p.int(uint64(v), false, verb)
	case uint64:
		p.int(v, false, verb)
	case uintptr:
		p.int(uint64(v), false, verb)
	case float32:
		p.float(float64(v), 32, verb)
	case float64:
		p.float(v, 64, verb)
	case error:
		p.method(v.Error(), verb)
	case Stringer:
		p.method(v.String(), verb)
	default:
		p.bad(verb, "BADTYPE")
	}
}

// method formats what an operand's Error or String method returned, for
// the verbs fmt calls them for.
func (p *printer) method(s string, verb rune) {
	switch verb {
	case 'v', 's', 'q', 'x', 'X':
		p.str(s, verb)
	default:
		p.bad(verb, "BADTYPE")
	}
}

func (p *printer) str(s string, verb rune) {
	if p.prec >= 0 && verb != 'x' && verb != 'X' {
		s = truncate(s, p.prec)
	}
	switch verb {
	case 'v', 's':
		p.pad(s)
	case 'q':
		switch {
		case p.sharp && strconv.CanBackquote(s):
			p.pad("`" + s + "`")
		case p.plus:
			p.pad(strconv.QuoteToASCII(s))
		default:
			p.pad(strconv.Quote(s))
		}
	case 'x', 'X':
		if p.prec >= 0 && p.prec < len(s) {
			s = s[:p.prec]
		}
		digits := "0123456789abcdef"
		if verb == 'X' {
			digits = "0123456789ABCDEF"
		}
		var b []byte
		for i := 0; i < len(s); i++ {
			if i > 0 && p.space {
				b = append(b, ' ')
			}
			if p.sharp && (i == 0 || p.space) {
				b = append(b, '0', byte(verb))
			}
			b = append(b, digits[s[i]>>4], digits[s[i]&15])
		}
		p.pad(string(b))
	default:
		p.bad(verb, "BADTYPE")
	}
}

// truncate returns the first n runes of s.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func (p *printer) int(u uint64, signed bool, verb rune) {
	base := 10
	switch verb {
	case 'v', 'd':
	case 'x', 'X':
		base = 16
	case 'o':
		base = 8
	default:
		p.bad(verb, "BADTYPE")
		return
	}
	neg := signed && int64(u) < 0
	if neg {
		u = -u
	}
	// As fmt: %.3d and %03d both ask for leading zeros, counted without
	// the 0x prefix; with a precision, the 0 flag pads with spaces.
	prec := 0
	if p.prec >= 0 {
		if prec = p.prec; prec == 0 && u == 0 {
			p.padWith("")
			return
		}
	} else if p.zero && !p.minus && p.wid > 0 {
		if prec = p.wid; neg || p.plus || p.space {
			prec--
		}
	}
	var b []byte
	switch {
	case neg:
		b = append(b, '-')
	case p.plus:
		b = append(b, '+')
	case p.space:
		b = append(b, ' ')
	}
	digits := strconv.AppendUint(nil, u, base)
	if p.sharp && base == 8 && digits[0] != '0' && len(digits) >= prec {
		b = append(b, '0')
	} else if p.sharp && base == 16 {
		b = append(b, '0', byte(verb))
	}
	for n := len(digits); n < prec; n++ {
		b = append(b, '0')
	}
	if verb == 'X' {
		for i, c := range digits {
			if 'a' <= c && c <= 'f' {
				digits[i] = c - 'a' + 'A'
			}
		}
	}
	p.padWith(string(append(b, digits...)))
}

func (p *printer) float(f float64, size int, verb rune) {
	prec := p.prec
	switch verb {
	case 'v':
		verb = 'g'
	case 'g', 'G':
	case 'e', 'E', 'f', 'F':
		if verb == 'F' {
			verb = 'f'
		}
		if prec < 0 {
			prec = 6
		}
	default:
		p.bad(verb, "BADTYPE")
		return
	}
	if p.sharp { // fmt's forced decimal point: not supported
		p.bad(verb, "BADFLAG")
		return
	}
	// As fmt: a sign always in num[0], shown if negative or asked for.
	num := strconv.AppendFloat([]byte{'+'}, f, byte(verb), prec, size)
	if num[1] == '-' || num[1] == '+' {
		num = num[1:]
	}
	if p.space && num[0] == '+' && !p.plus {
		num[0] = ' '
	}
	if num[1] == 'I' || num[1] == 'N' { // never padded with zeros
		if num[1] == 'N' && !p.space && !p.plus {
			num = num[1:]
		}
		p.padWith(string(num))
		return
	}
	if !p.plus && num[0] == '+' {
		num = num[1:]
	} else if p.zero && !p.minus && p.wid > len(num) {
		p.buf = append(p.buf, num[0])
		for n := p.wid - len(num); n > 0; n-- {
			p.buf = append(p.buf, '0')
		}
		p.buf = append(p.buf, num[1:]...)
		return
	}
	p.pad(string(num))
}

// pad writes s padded with spaces (or, for the 0 flag, zeros) to the
// width, counted in runes as fmt counts it.
func (p *printer) pad(s string) {
	if p.zero && !p.minus && p.wid > 0 {
		for n := p.wid - utf8.RuneCountInString(s); n > 0; n-- {
			p.buf = append(p.buf, '0')
		}
		p.buf = append(p.buf, s...)
		return
	}
	p.padWith(s)
}

func (p *printer) padWith(s string) {
	n := p.wid - utf8.RuneCountInString(s)
	if !p.minus {
		for ; n > 0; n-- {
			p.buf = append(p.buf, ' ')
		}
	}
	p.buf = append(p.buf, s...)
	for ; n > 0; n-- {
		p.buf = append(p.buf, ' ')
	}
}
