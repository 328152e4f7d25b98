package bundle

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// TestFixture reads testdata/v1.tar.gz, a bundle itiny-read wrote (0.1.0-dev,
// with encoding/json's manifest) of two golden rings: bundles written
// before keep reading, manifest and all.
func TestFixture(t *testing.T) {
	f, err := os.Open("testdata/v1.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := Read(f, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Problems) != 0 {
		t.Fatalf("problems: %q", b.Problems)
	}
	sum := func(name string, size int64, sha string) FileSum { return FileSum{Name: name, Size: size, SHA256: sha} }
	want := &Manifest{
		Format:  1,
		Created: codec.Time{Time: time.Date(2026, 12, 3, 17, 28, 9, 558267796, time.UTC)},
		Host:    "vm",
		Tool:    "itiny-read 0.1.0-dev",
		Files: []FileSum{
			sum("events/stage", 4224, "3094dd79606dec24657f27f96834ca989234ba26e15551fbb04d9d71f315b09f"),
			sum("events/seg-0000000000000001.jsonl", 8005, "c84bcffc57e6d8445628d930184662b93be7a5440e6ade23a366a1b7ee3ff14c"),
			sum("events/seg-0000000000000002.jsonl", 8044, "de3d1a15f17aad4fe470892c51d6faf3f83b4453c2fe9a44aa21e3409f9be1c4"),
			sum("events/seg-0000000000000003.jsonl", 2644, "7da4d847502c6404bc805f71e194d163f1eacc0ae78133f79ff8af27017db2a4"),
			sum("metrics/stage", 128, "091beff80e21568145cf9754ce91b2b9e2b611fe7c05b4dbd1dd04974d7041fb"),
			sum("metrics/seg-0000000000000001.mpk", 8054, "52c22d5ea796420cd9ec399c04ed1bd4d6a7b3fef290c50ce7a695c48554b0c4"),
			sum("metrics/seg-0000000000000002.mpk", 4580, "311b111515e280350e5fd2256c9a4fd7c9d6f7ed318bf1859ce0a4e9155c7dcf"),
		},
	}
	if !reflect.DeepEqual(b.Manifest, want) {
		t.Fatalf("manifest\n%+v\nwant\n%+v", b.Manifest, want)
	}
	if got := b.Rings(); !reflect.DeepEqual(got, []string{"events", "metrics"}) {
		t.Fatalf("rings %q", got)
	}
}
