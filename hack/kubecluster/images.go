package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/spf13/cobra"
)

// Image is one FROM-scratch image: static binaries at the root and an entrypoint.
type Image struct {
	Name string
	// Files are binaries in the bin directory, put at /<name>.
	Files []string
	// Links are symlinks in the image, link name → target.
	Links      map[string]string
	Entrypoint []string
	// Optional images are skipped when their binaries are not built.
	Optional bool
}

// images are Knitter's images and the e2e suite's test pod image. deploy/images/*.Dockerfile build
// the same images with Docker.
var images = []Image{
	{Name: "knitter-manager", Files: []string{"knitter-manager"}, Entrypoint: []string{"/knitter-manager"}},
	{Name: "knitter-agent", Files: []string{"knitter-agent", "knitter-plugin"}, Entrypoint: []string{"/knitter-agent"}},
	{Name: "knitter-monitor", Files: []string{"knitter-monitor"}, Entrypoint: []string{"/knitter-monitor"}, Optional: true},
	{Name: "knitter-testpod", Files: []string{"knitter-testpod"}, Entrypoint: []string{"/knitter-testpod", "serve"},
		Links: map[string]string{"/bin/ip": "/knitter-testpod", "/bin/ping": "/knitter-testpod", "/bin/http-get": "/knitter-testpod"}},
}

func imagesCmd() *cobra.Command {
	var bin, out, repo, tag string
	cmd := &cobra.Command{
		Use:   "images --bin DIR --out DIR",
		Short: "build Knitter's images (FROM scratch) from the static binaries as docker-archive tarballs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			for _, im := range images {
				ref := fmt.Sprintf("%s/%s:%s", repo, im.Name, tag)
				file := filepath.Join(out, im.Name+".tar")
				built, err := buildImage(im, bin, ref, file)
				if err != nil {
					return err
				}
				if built {
					fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", ref, file)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&bin, "bin", "_output", "directory of the static binaries")
	cmd.Flags().StringVar(&out, "out", "_output/images", "where the image tarballs go")
	cmd.Flags().StringVar(&repo, "repo", "localhost", "registry/repository prefix of the image names")
	cmd.Flags().StringVar(&tag, "tag", "dev", "tag of every image")
	return cmd
}

// buildImage writes im as a tarball `ctr images import` and `docker load` take. It reports false for
// an optional image whose binaries are missing.
func buildImage(im Image, bin, ref, file string) (bool, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// A fixed time keeps the image digest a function of the binaries alone.
	epoch := time.Unix(0, 0)
	for _, f := range im.Files {
		b, err := os.ReadFile(filepath.Join(bin, f))
		if os.IsNotExist(err) && im.Optional {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("image %s: %w (run make build first)", im.Name, err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: f, Mode: 0o755, Size: int64(len(b)), ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
			return false, err
		}
		if _, err := tw.Write(b); err != nil {
			return false, err
		}
	}
	if len(im.Links) > 0 {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/", Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir}); err != nil {
			return false, err
		}
	}
	for _, l := range sortedKeys(im.Links) {
		if err := tw.WriteHeader(&tar.Header{Name: l[1:], Linkname: im.Links[l], Mode: 0o777, ModTime: epoch, Typeflag: tar.TypeSymlink}); err != nil {
			return false, err
		}
	}
	if err := tw.Close(); err != nil {
		return false, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		return false, fmt.Errorf("image %s layer: %w", im.Name, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return false, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return false, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Entrypoint = im.Entrypoint
	cf.Config.Env = []string{"PATH=/bin"}
	cf.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/knitter-cni/knitter"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return false, err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return false, fmt.Errorf("image name %q: %w", ref, err)
	}
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		return false, fmt.Errorf("writing %s: %w", file, err)
	}
	return true, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
