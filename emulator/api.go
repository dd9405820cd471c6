//go:build !js

package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ssmwasm/ssm.wasm/protocol"
)

// maxRequestBody bounds the JSON body of API requests.
const maxRequestBody = 1 << 20

// routes returns the server's handler: the session API, the data channel
// and, when www is set, the static files.
func (s *Server) routes(www string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/sessions", s.handleNewSession)
	mux.HandleFunc("POST /v1/sessions/{id}/resume", s.handleResume)
	mux.HandleFunc("POST /v1/sessions/{id}/terminate", s.handleTerminate)
	mux.HandleFunc("GET /v1/data-channel/{id}", s.serveDataChannel)
	if www != "" {
		mux.Handle("/", staticHandler(www))
	}
	return withRequestID(mux)
}

// withRequestID adds an X-Amzn-Requestid header to every response, as AWS
// APIs do.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Requestid", protocol.NewUUID().String())
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleNewSession(w http.ResponseWriter, r *http.Request) {
	var req SessionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeAPIError(w, http.StatusBadRequest, "ValidationException",
			fmt.Errorf("invalid session request: %w", err))
		return
	}
	info, err := s.NewSession(req)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ValidationException", err)
		return
	}
	writeJSON(w, info)
}

func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) {
	info, err := s.Resume(r.PathValue("id"))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "DoesNotExistException", err)
		return
	}
	writeJSON(w, info)
}

func (s *Server) handleTerminate(w http.ResponseWriter, r *http.Request) {
	if err := s.Terminate(r.PathValue("id")); err != nil {
		writeAPIError(w, http.StatusBadRequest, "DoesNotExistException", err)
		return
	}
	writeJSON(w, struct{}{})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// writeAPIError writes an AWS-style JSON error with its type in
// X-Amzn-Errortype.
func writeAPIError(w http.ResponseWriter, status int, errorType string, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", errorType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": errorType, "message": err.Error()})
}
