package ringlog

import (
	"io"
	"os"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/pack"
)

// BenchmarkRepack reads the records of the ring $PACK_RING (say an
// agent's DATA/metrics after some minutes with every collector at 1 s)
// and packs them again as a packed memory stage of DefaultStageSize does,
// with version 1 blocks and with version 2: bytes a record, and how many
// seconds of the ring's records a full block holds. With PACK_BLOCKS=ring
// the blocks end where the ring's own blocks (or frames) end instead,
// as the flush interval cut them.
func BenchmarkRepack(b *testing.B) {
	ring := os.Getenv("PACK_RING")
	if ring == "" {
		b.Skip("PACK_RING names no ring")
	}
	r, err := NewReader(ring)
	if err != nil {
		b.Fatal(err)
	}
	var recs [][]byte
	var seqs []uint64
	var cuts []bool // a record that starts a block of the ring
	var first, last codec.Record
	var where Entry
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil || e.Codec != codec.Msgpack {
			continue
		}
		recs, seqs = append(recs, append([]byte(nil), e.Payload...)), append(seqs, e.Seq)
		cuts = append(cuts, e.Segment != where.Segment || e.Offset != where.Offset || e.Offset < 0)
		where = e
	}
	ringCuts := os.Getenv("PACK_BLOCKS") == "ring"
	if len(recs) < 2 || codec.Msgpack.Decode(recs[0], &first) != nil || codec.Msgpack.Decode(recs[len(recs)-1], &last) != nil {
		b.Fatalf("%d records", len(recs))
	}
	perSec := float64(len(recs)) / last.Wall.Sub(first.Wall).Seconds()
	raw := 0
	for _, r := range recs {
		raw += len(r)
	}
	for _, v := range []struct {
		name string
		p    interface {
			Append(dst, rec []byte, seq uint64) ([]byte, error)
		}
	}{
		{"v1", new(pack.Packer)},
		{"v2", new(pack.Encoder)},
	} {
		b.Run(v.name, func(b *testing.B) {
			var blocks, bytes, full, fullRecs int
			for b.Loop() {
				blocks, bytes, full, fullRecs = 0, 0, 0, 0
				var blk []byte
				n := 0
				end := func(last bool) {
					blocks++
					bytes += len(blk) + binFrameHeader
					if !last {
						full++
						fullRecs += n
					}
					blk, n = blk[:0], 0
					switch p := v.p.(type) {
					case *pack.Packer:
						p.Reset()
					case *pack.Encoder:
						p.Reset()
					}
				}
				for i, rec := range recs {
					// stagePacked: flush when the record might not fit.
					if ringCuts && i > 0 && cuts[i] || !ringCuts && len(blk) > 0 && len(blk)+len(rec)+2*binFrameHeader > DefaultStageSize {
						end(ringCuts)
					}
					if blk, err = v.p.Append(blk, rec, seqs[i]); err != nil {
						b.Fatal(err)
					}
					n++
				}
				end(true)
			}
			b.ReportMetric(float64(len(recs)), "records")
			b.ReportMetric(float64(raw)/float64(len(recs)), "raw-bytes/record")
			b.ReportMetric(float64(bytes)/float64(len(recs)), "bytes/record")
			b.ReportMetric(float64(blocks), "blocks")
			if full > 0 {
				b.ReportMetric(float64(fullRecs)/float64(full)/perSec, "s/block")
			}
		})
	}
}
