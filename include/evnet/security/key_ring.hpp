#pragma once

// Who may connect: the public keys a server admits and the identity each
// stands for. The ZAP handler (inside the transport, on its thread) asks it
// about every CURVE handshake, and the transport asks it about every inbound
// message's User-Id, so a key revoked while its holder is connected stops
// counting at once. The application fills it (Central from its store, an
// Engine with its own CP's key) and changes it at run time (registration,
// revocation).
//
// Thread-safety: every method is safe from any thread (a shared mutex:
// lookups run concurrently, changes are exclusive).

#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace evnet::security {

class key_ring {
public:
  // Replaces the whole set: public key (Z85) -> identity ("cp:ALC1", ...).
  // Identities not in `keys` count as revoked only if revoke() named them.
  void replace(std::map<std::string, std::string> keys);
  // Admits one key for `identity` (a new registration, or a new key for a
  // revoked identity: it is no longer revoked). An older key of the same
  // identity is dropped: one identity, one key.
  void admit(const std::string& public_key, const std::string& identity);
  // Forgets every key of `identity` and refuses it from now on.
  void revoke(const std::string& identity);

  // The identity of a key that is admitted now, or nullopt.
  std::optional<std::string> identity_of(std::string_view public_key) const;
  // Is `identity` admitted now (it has a key and was not revoked since)?
  bool admits(std::string_view identity) const;
  std::size_t size() const;

private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> by_key_;       // key -> identity
  std::map<std::string, std::string, std::less<>> by_identity_;  // identity -> key
};

} // namespace evnet::security
