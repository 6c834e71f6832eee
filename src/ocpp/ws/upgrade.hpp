#pragma once

// The pure checks of an OCPP-J upgrade request, kept apart from the sockets
// so that they are unit-tested on strings (and cost no Beast compile time).
// Every input here is peer bytes: nothing throws, nothing trusts a length.

#include <optional>
#include <string>
#include <string_view>

namespace evnet::ocpp::detail {

// The subprotocol the server speaks; the answer never names another one.
inline constexpr std::string_view ocpp16_subprotocol = "ocpp1.6";

// "/ocpp/<id>" -> the percent-decoded id when it is 1..48 characters of
// OCPP's identifierString set [A-Za-z0-9*-_=:+|@.]; nullopt for any other
// target (another path, a query string, a bad escape, an empty id).
std::optional<std::string> charge_point_id_from_target(std::string_view target);

// One Sec-WebSocket-Protocol header value ("ocpp1.6, ocpp2.0"): true when
// one of its comma-separated tokens is exactly "ocpp1.6" (case-sensitive,
// surrounding blanks ignored).
bool offers_ocpp16(std::string_view header_value);

struct basic_credentials {
  std::string user;
  std::string password;
};

// An Authorization header value "Basic <base64 of user:password>" (scheme
// case-insensitive). nullopt when it is another scheme, the base64 is
// malformed or the decoded text has no ':'. The password may hold ':'.
std::optional<basic_credentials> parse_basic_auth(std::string_view header_value);

} // namespace evnet::ocpp::detail
