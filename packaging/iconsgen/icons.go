package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sort"

	"github.com/jackmordaunt/icns/v3"
	"github.com/sergeymakinen/go-ico"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/ui"
)

// The square sizes of the app icon written as PNGs (callguard-<n>.png, for
// the Linux hicolor theme) and put in the Windows .ico.
var (
	pngSizes = []int{16, 24, 32, 48, 64, 128, 256}
	icoSizes = []int{16, 24, 32, 48, 64, 256}
)

// generate returns every icon file by name.
func generate() (map[string][]byte, error) {
	svg := appIconSVG()
	files := map[string][]byte{"callguard.svg": svg}
	encode := func(name string, img image.Image) error {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		files[name] = buf.Bytes()
		return nil
	}
	// The main icon: FyneApp.toml, the Linux pixmap and the app's window.
	draw := func(size int) (image.Image, error) { return renderSVG(svg, size) }
	big, err := draw(512)
	if err != nil {
		return nil, err
	}
	if err := encode("callguard.png", big); err != nil {
		return nil, err
	}
	drawn := map[int]image.Image{}
	for _, n := range pngSizes {
		if drawn[n], err = draw(n); err != nil {
			return nil, err
		}
		if err := encode(fmt.Sprintf("callguard-%d.png", n), drawn[n]); err != nil {
			return nil, err
		}
	}
	var imgs []image.Image
	for _, n := range icoSizes {
		imgs = append(imgs, drawn[n])
	}
	var icoBuf bytes.Buffer
	if err := ico.EncodeAll(&icoBuf, imgs); err != nil {
		return nil, fmt.Errorf("encode callguard.ico: %w", err)
	}
	files["callguard.ico"] = icoBuf.Bytes()
	var icn bytes.Buffer
	huge, err := draw(1024)
	if err != nil {
		return nil, err
	}
	if err := icns.Encode(&icn, huge); err != nil {
		return nil, fmt.Errorf("encode callguard.icns: %w", err)
	}
	files["callguard.icns"] = icn.Bytes()

	// The tray icons, exactly as the UI draws them.
	for s := app.StateUnknown; s <= app.StateUnconfirmed; s++ {
		files["state-"+s.String()+".png"] = ui.StateIcon(s).Content()
	}
	return files, nil
}

// writeAll writes every icon into dir.
func writeAll(dir string) error {
	files, err := generate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return fmt.Errorf("write icon: %w", err)
		}
	}
	fmt.Printf("iconsgen: wrote %d icons into %s\n", len(names), dir)
	return nil
}
