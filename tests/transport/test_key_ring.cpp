#define BOOST_TEST_MODULE key_ring
#include <boost/test/unit_test.hpp>

#include "evnet/security/key_ring.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace sec = evnet::security;

BOOST_AUTO_TEST_CASE(admitted_keys_stand_for_their_identity) {
  sec::key_ring ring;
  BOOST_TEST(ring.size() == 0u);
  ring.admit("K1", "cp:ALC1");
  ring.admit("K2", "driver:D1");
  BOOST_TEST(ring.identity_of("K1").value() == "cp:ALC1");
  BOOST_TEST(ring.identity_of("K2").value() == "driver:D1");
  BOOST_TEST(!ring.identity_of("K3").has_value());
  BOOST_TEST(ring.admits("cp:ALC1"));
  BOOST_TEST(!ring.admits("cp:ALC2"));
  BOOST_TEST(!ring.admits(""));  // CURVE off: nobody is admitted by the ring
  BOOST_TEST(ring.size() == 2u);
}

BOOST_AUTO_TEST_CASE(one_identity_one_key) {
  sec::key_ring ring;
  ring.admit("OLD", "cp:ALC1");
  ring.admit("NEW", "cp:ALC1");  // a new key for the same CP replaces the old one
  BOOST_TEST(!ring.identity_of("OLD").has_value());
  BOOST_TEST(ring.identity_of("NEW").value() == "cp:ALC1");
  BOOST_TEST(ring.size() == 1u);
  // A key handed to someone else no longer stands for its former holder.
  ring.admit("NEW", "cp:ALC2");
  BOOST_TEST(!ring.admits("cp:ALC1"));
  BOOST_TEST(ring.identity_of("NEW").value() == "cp:ALC2");
  BOOST_TEST(ring.size() == 1u);
}

BOOST_AUTO_TEST_CASE(revoked_identities_are_refused_until_admitted_again) {
  sec::key_ring ring;
  ring.admit("K1", "cp:ALC1");
  ring.admit("K2", "cp:ALC2");
  ring.revoke("cp:ALC1");
  BOOST_TEST(!ring.admits("cp:ALC1"));
  BOOST_TEST(!ring.identity_of("K1").has_value());
  BOOST_TEST(ring.admits("cp:ALC2"));
  ring.revoke("cp:NOPE");  // unknown: harmless
  BOOST_TEST(ring.size() == 1u);
  ring.admit("K1b", "cp:ALC1");  // re-registered with a new key
  BOOST_TEST(ring.admits("cp:ALC1"));
  BOOST_TEST(!ring.identity_of("K1").has_value());
}

BOOST_AUTO_TEST_CASE(replace_swaps_the_whole_set) {
  sec::key_ring ring;
  ring.admit("K1", "cp:ALC1");
  ring.replace({{"K2", "cp:ALC2"}, {"K3", "driver:D1"}});
  BOOST_TEST(!ring.admits("cp:ALC1"));
  BOOST_TEST(ring.admits("cp:ALC2"));
  BOOST_TEST(ring.identity_of("K3").value() == "driver:D1");
  BOOST_TEST(ring.size() == 2u);
  // Two keys for one identity (not possible from the store): one remains,
  // and revoking the identity removes every key it had.
  ring.replace({{"A", "cp:X"}, {"B", "cp:X"}});
  BOOST_TEST(ring.size() == 1u);
  BOOST_TEST(ring.admits("cp:X"));
  ring.revoke("cp:X");
  BOOST_TEST(!ring.identity_of("A").has_value());
  BOOST_TEST(!ring.identity_of("B").has_value());
  ring.replace({});
  BOOST_TEST(ring.size() == 0u);
}

BOOST_AUTO_TEST_CASE(lookups_and_changes_from_many_threads) {
  sec::key_ring ring;
  ring.admit("K0", "cp:ALC0");
  std::atomic<bool> stop{false};
  std::atomic<long> lookups{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        (void)ring.identity_of("K0");
        (void)ring.admits("cp:ALC0");
        ++lookups;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    ring.admit("K" + std::to_string(i % 50), "cp:ALC" + std::to_string(i % 50));
    if (i % 7 == 0) {
      ring.revoke("cp:ALC" + std::to_string(i % 50));
    }
  }
  stop = true;
  for (auto& t : readers) {
    t.join();
  }
  BOOST_TEST(lookups.load() > 0);
  BOOST_TEST(ring.size() <= 50u);
}
