package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestBuildImageIsLoadableWithItsFilesAndEntrypoint(t *testing.T) {
	bin, out := t.TempDir(), t.TempDir()
	for _, f := range []string{"knitter-agent", "knitter-plugin"} {
		if err := os.WriteFile(filepath.Join(bin, f), []byte("binary "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	im := Image{Name: "knitter-agent", Files: []string{"knitter-agent", "knitter-plugin"}, Entrypoint: []string{"/knitter-agent"},
		Links: map[string]string{"/bin/ip": "/knitter-agent"}}
	file := filepath.Join(out, "a.tar")
	built, err := buildImage(im, bin, "localhost/knitter-agent:t1", file)
	if err != nil || !built {
		t.Fatalf("built %v, %v", built, err)
	}
	tag, _ := name.NewTag("localhost/knitter-agent:t1")
	img, err := tarball.ImageFromPath(file, &tag)
	if err != nil {
		t.Fatalf("the tarball does not load as the named image: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/knitter-agent"}) || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Fatalf("config %+v", cf)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			b, _ := io.ReadAll(tr)
			if h.Mode != 0o755 {
				t.Errorf("%s has mode %o, want 755", h.Name, h.Mode)
			}
			got[h.Name] = string(b)
		case tar.TypeSymlink:
			got[h.Name] = "-> " + h.Linkname
		}
	}
	want := map[string]string{"knitter-agent": "binary knitter-agent", "knitter-plugin": "binary knitter-plugin", "bin/ip": "-> /knitter-agent"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("layer %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	// The same binaries give the same image.
	again := filepath.Join(out, "b.tar")
	if _, err := buildImage(im, bin, "localhost/knitter-agent:t1", again); err != nil {
		t.Fatal(err)
	}
	img2, err := tarball.ImageFromPath(again, &tag)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("rebuilding changed the digest: %s vs %s", d1, d2)
	}
}

func TestBuildImageMissingBinary(t *testing.T) {
	bin := t.TempDir()
	built, err := buildImage(Image{Name: "m", Files: []string{"knitter-monitor"}, Optional: true}, bin, "localhost/m:dev", filepath.Join(bin, "m.tar"))
	if err != nil || built {
		t.Fatalf("an optional image without its binary: built %v, %v", built, err)
	}
	_, err = buildImage(Image{Name: "x", Files: []string{"knitter-manager"}}, bin, "localhost/x:dev", filepath.Join(bin, "x.tar"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a required image without its binary: %v", err)
	}
}
