// TLS for both directions (SPEC section 10): the server profile (TLS 1.2 and 1.3, ECDHE with
// AEAD only, ALPN h2 then http/1.1) and the upstream client (the system CAs plus the truststore;
// SNI; OpenSSL's host-name or IP verification, never the subject CN).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <string>
#include <string_view>

#include "common/endpoint_url.h"

namespace mgw::http {

// Certificates a TLS peer is verified against: the PEM files of a folder or one PEM bundle file,
// and PEM text (a PKCS#12 truststore's certificates, read by the caller).
struct TrustSource {
  std::string path;  // "" = none; absent or empty is not an error
  std::string pem;
};

// Client certificates on the TLS listener (mutual TLS): not asked for, asked for (a client may send
// none), or required. A certificate sent is always verified against `trust` (never the system
// CAs), and against the CRLs of crlPath when given (then every certificate's issuer needs one).
enum class ClientCertificates { kOff, kOptional, kRequire };
struct ClientVerification {
  ClientCertificates mode = ClientCertificates::kOff;
  TrustSource trust;
  std::string crlPath;  // PEM CRLs: a file or a folder of files; "" = no revocation check
};

// False with *error set when the key and certificate do not make a context (or the client CAs or
// CRLs cannot be read). `http2`: ALPN selects h2 when the client offers it.
bool configureServerContext(boost::asio::ssl::context& ctx, EVP_PKEY* key, X509* certificate,
                            bool http2, const ClientVerification& clients, std::string* error);

// The client certificate the handshake verified: its subject (RFC 2253) and the SHA-256 of its DER
// (lower-case hex). Empty when the client sent none.
struct PeerCertificate {
  std::string subject;
  std::string sha256;
};
PeerCertificate verifiedPeerCertificate(SSL* ssl);

// The certificate a failed verification stopped at, as the verify callback recorded it: subject
// and issuer (RFC 2253); empty when verification did not fail on a certificate.
struct RefusedCertificate {
  std::string subject;
  std::string issuer;
  std::string reason;  // OpenSSL's verify error ("certificate has expired")
};
RefusedCertificate refusedCertificate(SSL* ssl);

// The protocol ALPN selects from the client's list (RFC 7301: length-prefixed names): "h2" when
// `http2` and offered, else "http/1.1" when offered, else "" (no ALPN: HTTP/1.1). A view into
// `offered`.
std::string_view chooseAlpn(std::string_view offered, bool http2);

// The system CA bundle plus every certificate of `trust`. An absent or empty truststore is not an
// error; *note says what was loaded.
void configureClientContext(boost::asio::ssl::context& ctx, const TrustSource& trust,
                            std::string* note);

// Per connection: SNI for a host name, and the name or IP address the certificate must match.
// False when OpenSSL refuses the parameters.
bool prepareClientSsl(SSL* ssl, const mgw::UpstreamTarget& target);

// Why a handshake failed, as a user can act on it ("certificate verification failed: Hostname
// mismatch (subject CN=..., issuer CN=...)").
std::string handshakeFailure(SSL* ssl, const std::string& fallback);

}  // namespace mgw::http
