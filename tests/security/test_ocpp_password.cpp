#define BOOST_TEST_MODULE security_ocpp_password
#include <boost/test/unit_test.hpp>

// The OCPP charge points' Basic-auth passwords: their form, and the salted
// hash Central keeps instead of them.

#include "evnet/security/ocpp_password.hpp"

#include <string>

namespace sec = evnet::security;

BOOST_AUTO_TEST_CASE(the_form_is_sixteen_to_forty_printable_characters) {
  BOOST_TEST(!sec::check_ocpp_password(std::string(15, 'a')).ok());
  BOOST_TEST(sec::check_ocpp_password(std::string(16, 'a')).ok());
  BOOST_TEST(sec::check_ocpp_password(std::string(40, '~')).ok());
  BOOST_TEST(!sec::check_ocpp_password(std::string(41, 'a')).ok());
  BOOST_TEST(sec::check_ocpp_password("with spaces: and colons").ok());
  BOOST_TEST(!sec::check_ocpp_password(std::string("sixteen chars\n..", 16)).ok());
  BOOST_TEST(!sec::check_ocpp_password(std::string("sixteen\0chars...", 16)).ok());
  const auto bad = sec::check_ocpp_password("short");
  BOOST_TEST((bad.err().code == evnet::errc::invalid_field));
  BOOST_TEST(bad.err().message.find("16 to 40") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_hash_verifies_its_password_only) {
  const std::string password = "correct horse battery";
  auto hash = sec::hash_ocpp_password(password);
  BOOST_REQUIRE(hash.ok());
  BOOST_TEST(hash->find(password) == std::string::npos);  // never the password itself
  BOOST_TEST(hash->rfind("$argon2id$", 0) == 0);
  BOOST_TEST(sec::verify_ocpp_password(*hash, password));
  BOOST_TEST(!sec::verify_ocpp_password(*hash, "correct horse battery!"));
  BOOST_TEST(!sec::verify_ocpp_password(*hash, "Correct horse battery"));
  BOOST_TEST(!sec::verify_ocpp_password(*hash, ""));
}

BOOST_AUTO_TEST_CASE(the_salt_makes_every_hash_different) {
  auto a = sec::hash_ocpp_password("0123456789abcdef");
  auto b = sec::hash_ocpp_password("0123456789abcdef");
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  BOOST_TEST(*a != *b);
  BOOST_TEST(sec::verify_ocpp_password(*a, "0123456789abcdef"));
  BOOST_TEST(sec::verify_ocpp_password(*b, "0123456789abcdef"));
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_not_thrown) {
  BOOST_TEST(!sec::hash_ocpp_password("too short").ok());
  BOOST_TEST(!sec::verify_ocpp_password("", "0123456789abcdef"));
  BOOST_TEST(!sec::verify_ocpp_password("not a hash at all", "0123456789abcdef"));
  BOOST_TEST(!sec::verify_ocpp_password(std::string(500, '$'), "0123456789abcdef"));
  BOOST_TEST(!sec::verify_ocpp_password("$argon2id$v=19$m=8192,t=2,p=1$garbage", "0123456789abcdef"));
}
