//go:build !js

package emulator

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// originPatterns are the coder/websocket origin patterns of loopback pages.
// The brackets of the IPv6 host are escaped because the patterns follow
// path.Match syntax.
var originPatterns = []string{"127.0.0.1:*", "localhost:*", `\[::1\]:*`}

// isLoopbackHost reports whether host, without a port, names this machine.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// originAllowed reports whether a browser Origin header names an http page
// on a loopback host. An empty origin (a non-browser client) is allowed.
func originAllowed(origin string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return false
	}
	return isLoopbackHost(u.Hostname())
}

// hostAllowed reports whether the request's Host header names a loopback
// host, which keeps pages on other sites out through DNS rebinding.
func hostAllowed(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return isLoopbackHost(host)
}

// withCORS rejects requests from foreign hosts and origins, adds the CORS
// headers a loopback page needs and responds to preflight requests itself.
func withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if !hostAllowed(r) || !originAllowed(origin) {
			http.Error(w, "origin or host not allowed: only loopback pages may call this server",
				http.StatusForbidden)
			return
		}
		if origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "X-Amzn-Requestid, X-Amzn-Errortype")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			writePreflight(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writePreflight responds to a CORS preflight request, echoing the
// requested headers.
func writePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if requested := r.Header.Get("Access-Control-Request-Headers"); requested != "" {
		h.Set("Access-Control-Allow-Headers", requested)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
