package tiertest

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// TestWrite checks that the rings hold the summaries Write says it
// wrote, each tier over its span.
func TestWrite(t *testing.T) {
	data := t.TempDir()
	if d := os.Getenv("TIERTEST_DATA"); d != "" {
		data = d
	}
	end := time.Date(2026, 12, 31, 23, 37, 30, 0, time.UTC)
	tr := Write(t, data, Config{End: end, Hours: 30 * 24 * time.Hour, Minutes: 2 * 24 * time.Hour, Raw: time.Hour, HourLag: 2 * time.Hour, MinuteLag: 10 * time.Minute})
	for _, c := range []struct {
		stream string
		want   int
	}{{"metrics", 3 * tr.Raw}, {"metrics.1m", 3*len(tr.Minutes) + tr.MinuteMarks}, {"metrics.1h", 3*len(tr.Hours) + tr.HourMarks}} {
		r, err := ringlog.NewReader(filepath.Join(data, c.stream))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var rec codec.Record
			if err := e.Decode(&rec); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != c.want {
			t.Errorf("%s: %d records, want %d", c.stream, n, c.want)
		}
	}
	if n := len(tr.Minutes); n < 2*24*60-20 || n > 2*24*60 {
		t.Errorf("%d minutes, want two days' less the last ten", n)
	}
}
