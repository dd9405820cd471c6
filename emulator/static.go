//go:build !js

package emulator

import (
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// precompressed lists the sibling files tried for a request, in order of
// preference, with their Content-Encoding.
var precompressed = []struct{ encoding, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// staticHandler serves files from dir. A request for a directory serves its
// index.html. When the client accepts it, a pre-compressed sibling (.br or
// .gz) is served with Content-Encoding and the original file's type.
func staticHandler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			name = path.Join(name, "index.html")
		}
		file := filepath.Join(dir, filepath.FromSlash(name))
		if info, err := os.Stat(file); err == nil && info.IsDir() {
			name = path.Join(name, "index.html")
			file = filepath.Join(file, "index.html")
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Add("Vary", "Accept-Encoding")
		if ctype := mime.TypeByExtension(path.Ext(name)); ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		for _, p := range precompressed {
			if acceptsEncoding(r, p.encoding) && serveFile(w, r, file+p.suffix, p.encoding) {
				return
			}
		}
		if !serveFile(w, r, file, "") {
			http.NotFound(w, r)
		}
	})
}

// serveFile serves one regular file and reports whether it existed.
func serveFile(w http.ResponseWriter, r *http.Request, file, encoding string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	if encoding != "" {
		w.Header().Set("Content-Encoding", encoding)
	}
	http.ServeContent(w, r, "", info.ModTime(), f)
	return true
}

// acceptsEncoding reports whether the Accept-Encoding header lists encoding
// without q=0.
func acceptsEncoding(r *http.Request, encoding string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), encoding) &&
			strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
