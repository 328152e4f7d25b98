// Command ringstat reads one ring (a stream's directory) after the agent
// has stopped and prints what is in it, for the footprint benchmark
// (bench/footprint.sh): records, their framed bytes, the files' bytes, and
// records per source, as key=value lines.
//
// The number of full samples in a metrics ring is the number of records
// from the source given by -sample-source (default cpu), which emits one
// record per sample.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

func main() {
	sampleSrc := flag.String("sample-source", "cpu", "source with one record per full sample")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: ringstat [-sample-source NAME] RINGDIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	var segBytes, stageBytes int64
	var segs int
	ents, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ringstat:", err)
		os.Exit(1)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), "seg-") {
			segs++
			segBytes += fi.Size()
		} else if e.Name() == "stage" {
			stageBytes += fi.Size()
		}
	}
	r, err := ringlog.NewReader(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ringstat:", err)
		os.Exit(1)
	}
	var recs, payload, framed, damaged, fields int64
	perSrc := map[string]int64{}
	perName := map[string]int64{}
	bytesSrc := map[string]int64{}
	var rec codec.Record
	var firstSeq, lastSeq uint64
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		var d *ringlog.Damage
		if errors.As(err, &d) {
			damaged += d.Length
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ringstat:", err)
			os.Exit(1)
		}
		if recs == 0 {
			firstSeq = e.Seq
		}
		lastSeq = e.Seq
		recs++
		payload += int64(len(e.Payload))
		frame := int64(len(e.Payload)) + 16 // binary frame: crc, length, seq
		if e.Codec == codec.JSON {
			frame = int64(len(e.Payload)) + 1 // a line: its newline
		}
		framed += frame
		if err := e.Decode(&rec); err != nil {
			fmt.Fprintln(os.Stderr, "ringstat:", err)
			continue
		}
		perSrc[rec.Source]++
		perName[rec.Source+"/"+rec.Name]++
		bytesSrc[rec.Source] += frame
		fields += int64(len(rec.Fields))
	}
	samples := perSrc[*sampleSrc]
	fmt.Printf("ring=%s\n", filepath.Base(filepath.Clean(dir)))
	fmt.Printf("records=%d first_seq=%d last_seq=%d fields=%d\n", recs, firstSeq, lastSeq, fields)
	fmt.Printf("payload_bytes=%d framed_bytes=%d damaged_bytes=%d\n", payload, framed, damaged)
	fmt.Printf("segments=%d segment_bytes=%d stage_bytes=%d\n", segs, segBytes, stageBytes)
	fmt.Printf("samples=%d\n", samples)
	if samples > 0 {
		fmt.Printf("records_per_sample=%.2f framed_bytes_per_sample=%.1f segment_bytes_per_sample=%.1f\n",
			float64(recs)/float64(samples), float64(framed)/float64(samples), float64(segBytes)/float64(samples))
	}
	var keys []string
	for k := range perName {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		src := strings.SplitN(k, "/", 2)[0]
		fmt.Printf("per_record %s count=%d avg_framed_bytes=%.1f\n", k, perName[k], float64(bytesSrc[src])/float64(perSrc[src]))
	}
}
