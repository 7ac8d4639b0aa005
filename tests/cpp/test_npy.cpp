// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The .npy / .npz reader: buffers written byte by byte here for every accepted form and
// every rejection, zip archives assembled here (deflated with zlib), the writer by round
// trip, and files NumPy wrote (the fuzz seed corpus and the stored references).
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "autoreject/io/npy.hpp"

namespace io = autoreject::io;
using Bytes = std::vector<unsigned char>;
using Catch::Matchers::Contains;

namespace {

/// A .npy file: magic, version, header length, the header dict padded with blanks and
/// a newline to a multiple of 64 bytes (unless `pad` is false), then `body`.
Bytes npy_file(const std::string& dict, const Bytes& body, int major = 1, bool pad = true) {
    Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major), 0};
    const std::size_t preamble = major == 1 ? 10 : 12;
    std::string header = dict;
    if (pad) {
        while ((preamble + header.size() + 1) % 64 != 0) {
            header += ' ';
        }
        header += '\n';
    }
    const std::size_t len = header.size();
    out.push_back(static_cast<unsigned char>(len & 0xFF));
    out.push_back(static_cast<unsigned char>(len >> 8));
    if (major != 1) {
        out.push_back(0);
        out.push_back(0);
    }
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// little-endian IEEE doubles, byte by byte
const Bytes kOne = {0, 0, 0, 0, 0, 0, 0xF0, 0x3F};             // 1.0
const Bytes kTwo = {0, 0, 0, 0, 0, 0, 0x00, 0x40};             // 2.0
const Bytes kMinus1p5 = {0, 0, 0, 0, 0, 0, 0xF8, 0xBF};        // -1.5
const Bytes kHalf = {0, 0, 0, 0, 0, 0, 0xE0, 0x3F};            // 0.5
const Bytes kZero = {0, 0, 0, 0, 0, 0, 0, 0};                  // 0.0
const Bytes kTenThousand = {0, 0, 0, 0, 0, 0x88, 0xC3, 0x40};  // 10000.0

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

/// The six doubles 1, 2, -1.5, 0.5, 0, 10000 (a (2, 3) array).
Bytes six_doubles() { return cat({kOne, kTwo, kMinus1p5, kHalf, kZero, kTenThousand}); }

const std::string kDict23 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";

io::NpyArray parse(const Bytes& b) { return io::read_npy(b.data(), b.size(), "test.npy"); }

void put16(Bytes& b, std::uint32_t v) {
    b.push_back(static_cast<unsigned char>(v & 0xFF));
    b.push_back(static_cast<unsigned char>((v >> 8) & 0xFF));
}

void put32(Bytes& b, std::uint32_t v) {
    put16(b, v & 0xFFFF);
    put16(b, v >> 16);
}

void put64(Bytes& b, std::uint64_t v) {
    put32(b, static_cast<std::uint32_t>(v & 0xFFFFFFFFu));
    put32(b, static_cast<std::uint32_t>(v >> 32));
}

void set32(Bytes& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        b[at + i] = static_cast<unsigned char>((v >> (8 * i)) & 0xFF);
    }
}

/// Raw deflate (no wrapper) of `in`, as zip's method 8 stores it.
Bytes deflate_raw(const Bytes& in) {
    z_stream zs;
    std::memset(&zs, 0, sizeof(zs));
    REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 16);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

/// One member of a zip archive built by make_zip, with knobs to break it.
struct Member {
    Member(std::string name_, Bytes content_, int method_ = 0)
        : name(std::move(name_)), content(std::move(content_)), method(method_) {}
    std::string name;
    Bytes content;                 // the uncompressed member (a .npy file)
    int method = 0;                // 0 stored, 8 deflated; written as given
    std::uint32_t flags = 0;       // general purpose flags (bit 0: encrypted)
    bool bad_crc = false;          // store a wrong CRC-32 in the central directory
    bool zip64_local = false;      // NumPy's layout: 0xFFFFFFFF sizes + zip64 extra locally
    bool zip64_central = false;    // sizes in a zip64 extra of the central directory
    std::int64_t usize_delta = 0;  // added to the declared uncompressed size
    std::string local_name;        // when set, the local header's name
    Bytes raw;                     // when set, the member's data as written (compressed)
};

/// A zip archive: local headers and data, the central directory, the end record.
Bytes make_zip(const std::vector<Member>& members, const std::string& comment = "") {
    Bytes out;
    std::vector<std::uint32_t> offsets;
    std::vector<Bytes> packed;
    for (const Member& m : members) {
        const Bytes data = !m.raw.empty()  ? m.raw
                           : m.method == 8 ? deflate_raw(m.content)
                                           : m.content;
        packed.push_back(data);
        offsets.push_back(static_cast<std::uint32_t>(out.size()));
        const std::string lname = m.local_name.empty() ? m.name : m.local_name;
        put32(out, 0x04034b50u);
        put16(out, m.zip64_local ? 45 : 20);
        put16(out, m.flags);
        put16(out, static_cast<std::uint32_t>(m.method));
        put32(out, 0);  // time, date
        put32(out, static_cast<std::uint32_t>(
                       crc32(0, m.content.data(), static_cast<uInt>(m.content.size()))));
        put32(out, m.zip64_local ? 0xFFFFFFFFu : static_cast<std::uint32_t>(data.size()));
        put32(out, m.zip64_local ? 0xFFFFFFFFu : static_cast<std::uint32_t>(m.content.size()));
        put16(out, static_cast<std::uint32_t>(lname.size()));
        put16(out, m.zip64_local ? 20 : 0);
        out.insert(out.end(), lname.begin(), lname.end());
        if (m.zip64_local) {
            put16(out, 1);
            put16(out, 16);
            put64(out, m.content.size());
            put64(out, data.size());
        }
        out.insert(out.end(), data.begin(), data.end());
    }
    const std::uint32_t cd_offset = static_cast<std::uint32_t>(out.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
        const Member& m = members[i];
        std::uint32_t crc = static_cast<std::uint32_t>(
            crc32(0, m.content.data(), static_cast<uInt>(m.content.size())));
        if (m.bad_crc) {
            crc ^= 1u;
        }
        const std::uint64_t usize =
            static_cast<std::uint64_t>(static_cast<std::int64_t>(m.content.size()) + m.usize_delta);
        put32(out, 0x02014b50u);
        put16(out, 20);  // made by
        put16(out, 20);  // needed
        put16(out, m.flags);
        put16(out, static_cast<std::uint32_t>(m.method));
        put32(out, 0);
        put32(out, crc);
        put32(out, m.zip64_central ? 0xFFFFFFFFu : static_cast<std::uint32_t>(packed[i].size()));
        put32(out, m.zip64_central ? 0xFFFFFFFFu : static_cast<std::uint32_t>(usize));
        put16(out, static_cast<std::uint32_t>(m.name.size()));
        put16(out, m.zip64_central ? 20 : 0);
        put16(out, 0);  // comment
        put16(out, 0);  // disk
        put16(out, 0);  // internal attributes
        put32(out, 0);  // external attributes
        put32(out, offsets[i]);
        out.insert(out.end(), m.name.begin(), m.name.end());
        if (m.zip64_central) {
            put16(out, 1);
            put16(out, 16);
            put64(out, usize);
            put64(out, packed[i].size());
        }
    }
    const std::uint32_t cd_size = static_cast<std::uint32_t>(out.size()) - cd_offset;
    put32(out, 0x06054b50u);
    put16(out, 0);
    put16(out, 0);
    put16(out, static_cast<std::uint32_t>(members.size()));
    put16(out, static_cast<std::uint32_t>(members.size()));
    put32(out, cd_size);
    put32(out, cd_offset);
    put16(out, static_cast<std::uint32_t>(comment.size()));
    out.insert(out.end(), comment.begin(), comment.end());
    return out;
}

std::map<std::string, io::NpyArray> parse_zip(const Bytes& b) {
    return io::read_npz(b.data(), b.size(), "test.npz");
}

Bytes names_npy() {
    // <U4 ["Fp1", "Cz"]: UTF-32LE code units, NUL-padded
    Bytes body;
    for (const char* s : {"Fp1", "Cz"}) {
        for (std::size_t i = 0; i < 4; ++i) {
            const std::size_t n = std::strlen(s);
            put32(body, i < n ? static_cast<unsigned char>(s[i]) : 0u);
        }
    }
    return npy_file("{'descr': '<U4', 'fortran_order': False, 'shape': (2,), }", body);
}

Bytes read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace

// ------------------------------------------------------------------------ accepted .npy
TEST_CASE("npy: version 1.0 float64 (2, 3)", "[npy]") {
    const io::NpyArray a = parse(npy_file(kDict23, six_doubles()));
    CHECK(a.dtype == "<f8");
    CHECK(a.shape == std::vector<std::size_t>{2, 3});
    CHECK(a.size() == 6);
    CHECK(a.ndim() == 2);
    CHECK(a.itemsize() == 8);
    CHECK(a.as<double>() == std::vector<double>{1.0, 2.0, -1.5, 0.5, 0.0, 10000.0});
    CHECK_THROWS_WITH(a.as<float>(), Contains("'<f8', not '<f4'"));
    CHECK_THROWS_AS(a.as<std::int64_t>(), std::invalid_argument);
    CHECK_THROWS_WITH(a.item<double>(), Contains("not exactly one element"));
}

TEST_CASE("npy: versions 2.0 and 3.0 (4-byte header length)", "[npy]") {
    for (int major : {2, 3}) {
        const Bytes b = npy_file(kDict23, six_doubles(), major);
        REQUIRE(b[6] == major);
        REQUIRE((b[8] | b[9] << 8) % 64 == 52);  // 12 + len is a multiple of 64
        const io::NpyArray a = parse(b);
        CHECK(a.shape == std::vector<std::size_t>{2, 3});
        CHECK(a.as<double>()[5] == 10000.0);
    }
}

TEST_CASE("npy: header variants NumPy's reader accepts", "[npy]") {
    const Bytes body = six_doubles();
    // other key order, double quotes, no trailing comma, blanks around tokens, no padding
    for (const std::string& dict :
         {std::string("{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f8\"}"),
          std::string("{ 'descr' : '<f8' , 'fortran_order' : False , 'shape' : ( 2 , 3 , ) }"),
          std::string("{'descr':'<f8','fortran_order':False,'shape':(2,3)}")}) {
        const io::NpyArray a = parse(npy_file(dict, body, 1, false));
        CHECK(a.shape == std::vector<std::size_t>{2, 3});
        CHECK(a.as<double>()[2] == -1.5);
    }
    // Python 2's long dimensions in versions 1.0 and 2.0 only
    const std::string py2 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }";
    CHECK(parse(npy_file(py2, body)).shape == std::vector<std::size_t>{2, 3});
    CHECK_THROWS_AS(parse(npy_file(py2, body, 3)), io::format_error);
}

TEST_CASE("npy: the other numeric dtypes", "[npy]") {
    // <f4 (3,): 1.0f, -2.0f, 0.25f
    const io::NpyArray f =
        parse(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                       {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x80, 0x3E}));
    CHECK(f.as<float>() == std::vector<float>{1.0f, -2.0f, 0.25f});
    // <i8 (2,): -1, 2^40
    const io::NpyArray l = parse(
        npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                 {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0x01, 0, 0}));
    CHECK(l.as<std::int64_t>() == std::vector<std::int64_t>{-1, 1099511627776LL});
    CHECK(l.as<long long>()[1] == 1099511627776LL);
    // <i4 (1, 2): 7, -300
    const io::NpyArray i =
        parse(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }",
                       {7, 0, 0, 0, 0xD4, 0xFE, 0xFF, 0xFF}));
    CHECK(i.as<std::int32_t>() == std::vector<std::int32_t>{7, -300});
    CHECK_THROWS_AS(i.as<std::uint32_t>(), std::invalid_argument);
    // |u1 and |b1 both read as uint8_t
    const io::NpyArray u =
        parse(npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", {0, 7, 255}));
    CHECK(u.as<std::uint8_t>() == std::vector<std::uint8_t>{0, 7, 255});
    const io::NpyArray b =
        parse(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", {1, 0, 0, 1}));
    CHECK(b.dtype == "|b1");
    CHECK(b.as<std::uint8_t>() == std::vector<std::uint8_t>{1, 0, 0, 1});
    CHECK_THROWS_AS(b.as<std::int8_t>(), std::invalid_argument);
    // '<u1' is accepted and spelled '|u1'; the small and unsigned integers
    CHECK(parse(npy_file("{'descr': '<u1', 'fortran_order': False, 'shape': (1,), }", {9})).dtype ==
          "|u1");
    CHECK(parse(npy_file("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", {0xFE, 0xFF}))
              .as<std::int16_t>()[0] == -2);
    CHECK(parse(npy_file("{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }", {0xFE, 0xFF}))
              .as<std::uint16_t>()[0] == 65534);
}

TEST_CASE("npy: 0-d, empty and unicode arrays", "[npy]") {
    const io::NpyArray s =
        parse(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", kHalf));
    CHECK(s.shape.empty());
    CHECK(s.size() == 1);
    CHECK(s.item<double>() == 0.5);
    const io::NpyArray e =
        parse(npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 3), }", {}));
    CHECK(e.size() == 0);
    CHECK(e.as<std::int64_t>().empty());
    const io::NpyArray n = parse(names_npy());
    CHECK(n.dtype == "<U4");
    CHECK(n.itemsize() == 16);
    CHECK(n.as_strings() == std::vector<std::string>{"Fp1", "Cz"});
    CHECK_THROWS_WITH(n.as<double>(), Contains("'<U4'"));
    CHECK_THROWS_WITH(e.as_strings(), Contains("not a unicode string dtype"));
    // a non-ASCII code point (U+00B5, micro) comes out as UTF-8; a surrogate is refused
    const io::NpyArray mu =
        parse(npy_file("{'descr': '<U1', 'fortran_order': False, 'shape': (), }", {0xB5, 0, 0, 0}));
    CHECK(mu.as_strings() == std::vector<std::string>{"\xC2\xB5"});
    const io::NpyArray bad = parse(
        npy_file("{'descr': '<U1', 'fortran_order': False, 'shape': (), }", {0x00, 0xD8, 0, 0}));
    CHECK_THROWS_WITH(bad.as_strings(), Contains("invalid code point"));
}

// ------------------------------------------------------------------------ rejected .npy
TEST_CASE("npy: rejections name the source and the problem", "[npy]") {
    const Bytes good = npy_file(kDict23, six_doubles());
    auto rejects = [](const Bytes& b, const std::string& what) {
        INFO(what);
        CHECK_THROWS_AS(parse(b), io::format_error);
        CHECK_THROWS_AS(parse(b), std::invalid_argument);
        CHECK_THROWS_WITH(parse(b), Contains("test.npy: ") && Contains(what));
    };
    Bytes b = good;
    b[5] = 'Z';
    rejects(b, "bad magic");
    rejects(Bytes{'P', 'K', 3, 4}, "bad magic");
    rejects(Bytes{}, "truncated");
    rejects(Bytes(good.begin(), good.begin() + 9), "truncated");
    b = good;
    b[6] = 4;
    rejects(b, "unsupported .npy format version 4.0");
    b = good;
    b[7] = 1;
    rejects(b, "version 1.1");
    rejects(Bytes(good.begin(), good.begin() + 40), "the header declares 118 bytes");
    rejects(npy_file("['descr', '<f8']", {}), "not a dict");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", six_doubles()),
            "fortran_order True");
    rejects(npy_file("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", six_doubles()),
            "big-endian");
    rejects(npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", Bytes(16, 0)),
            "object");
    rejects(npy_file("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", Bytes(16, 0)),
            "'<c16' is not supported");
    rejects(npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", Bytes(2, 0)),
            "not supported");
    rejects(npy_file("{'descr': '|f8', 'fortran_order': False, 'shape': (1,), }", kOne),
            "not supported");
    rejects(npy_file("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", kOne),
            "structured");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False}", {}), "lacks the key 'shape'");
    rejects(npy_file("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': ()}", kOne),
            "repeats the key 'descr'");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (), 'x': 1}", kOne),
            "unexpected header key 'x'");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': 0, 'shape': ()}", kOne), "True or False");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (6)}", six_doubles()),
            "not a tuple");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': [6]}", six_doubles()),
            "expected '('");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (-6,)}", six_doubles()),
            "negative");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (06,)}", six_doubles()),
            "leading zero");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} x", six_doubles()),
            "after the header dict");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)", six_doubles()),
            "expected ',' or '}'");
    rejects(npy_file("{'descr' '<f8', 'fortran_order': False, 'shape': (2, 3)}", six_doubles()),
            "expected ':' after the key 'descr'");
    rejects(npy_file("{'descr': '<f\\x38', 'fortran_order': False, 'shape': (1,)}", kOne),
            "escape");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, "
                     "'shape': (99999999999999999999999,)}",
                     kOne),
            "overflows");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, "
                     "'shape': (4294967296, 4294967296, 4294967296)}",
                     kOne),
            "overflows");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, "
                     "'shape': (4611686018427387904,)}",
                     kOne),
            "overflows");
    // the data: short, long, and a bool that is neither 0 nor 1
    const Bytes six = six_doubles();
    rejects(npy_file(kDict23, Bytes(six.begin(), six.end() - 1)), "truncated data");
    rejects(npy_file(kDict23, cat({six, kOne})), "size mismatch: 56 bytes");
    rejects(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", {1, 2}),
            "bool element 1 holds the byte 2");
    CHECK_THROWS_AS(io::read_npy(nullptr, 3), std::invalid_argument);
}

// ------------------------------------------------------------------------ .npz
TEST_CASE("npz: stored and deflated members built here", "[npz]") {
    const Bytes a = npy_file(kDict23, six_doubles());
    for (int method : {0, 8}) {
        for (bool zip64 : {false, true}) {
            INFO("method " << method << " zip64 extras " << zip64);
            Member m1{"a.npy", a, method};
            Member m2{"names.npy", names_npy(), method};
            m1.zip64_local = m2.zip64_local = zip64;
            m1.zip64_central = zip64;
            const auto z = parse_zip(make_zip({m1, m2}, zip64 ? "a comment" : ""));
            REQUIRE(z.size() == 2);
            CHECK(z.at("a").shape == std::vector<std::size_t>{2, 3});
            CHECK(z.at("a").as<double>() == std::vector<double>{1.0, 2.0, -1.5, 0.5, 0.0, 10000.0});
            CHECK(z.at("names").as_strings() == std::vector<std::string>{"Fp1", "Cz"});
        }
    }
    // a long run of one byte: deflate shrinks it a lot, and it still inflates exactly
    const Bytes zeros = npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (100000,), }",
                                 Bytes(100000, 0));
    const auto z = parse_zip(make_zip({{"zeros.npy", zeros, 8}}));
    CHECK(z.at("zeros").as<std::uint8_t>() == std::vector<std::uint8_t>(100000, 0));
    CHECK(parse_zip(make_zip({})).empty());
}

TEST_CASE("npz: rejections name the entry and the problem", "[npz]") {
    const Bytes a = npy_file(kDict23, six_doubles());
    auto rejects = [](const Bytes& b, const std::string& what) {
        INFO(what);
        CHECK_THROWS_AS(parse_zip(b), io::format_error);
        CHECK_THROWS_WITH(parse_zip(b), Contains("test.npz") && Contains(what));
    };
    Member m{"a.npy", a, 8};
    m.bad_crc = true;
    rejects(make_zip({m}), "entry 'a.npy': CRC-32 mismatch");
    m = Member{"a.npy", a, 0};
    m.bad_crc = true;
    rejects(make_zip({m}), "CRC-32 mismatch");
    rejects(make_zip({{"a.npy", a, 12}}), "compression method 12");
    m = Member{"a.npy", a, 0};
    m.flags = 1;
    rejects(make_zip({m}), "encrypted");
    m = Member{"a.npy", a, 8};
    m.usize_delta = -1;
    rejects(make_zip({m}), "more than the 175 bytes");
    m.usize_delta = 1;
    rejects(make_zip({m}), "decompresses to 176 bytes");
    m = Member{"a.npy", a, 0};
    m.usize_delta = 1;
    rejects(make_zip({m}), "stored entry declares");
    m = Member{"a.npy", a, 8};
    m.usize_delta = 10000000;
    rejects(make_zip({m}), "more than deflate can produce");
    m = Member{"a.npy", a, 0};
    m.local_name = "b.npy";
    rejects(make_zip({m}), "the local header names 'b.npy'");
    rejects(make_zip({{"a.txt", a, 0}}), "not a .npy member");
    rejects(make_zip({{"a.npy", a, 0}, {"a.npy", a, 8}}), "holds this name twice");
    // a member that is not a valid .npy: the entry is named in the message
    rejects(make_zip({{"bad.npy", Bytes{'x', 'y'}, 0}}), "entry 'bad.npy': bad magic");
    // not a zip: too short, no end record, a .npy given to read_npz
    rejects(Bytes(10, 0), "too short");
    rejects(Bytes(100, 0), "no end of central directory");
    rejects(a, "use read_npy");
    // the deflate stream: truncated, corrupt, followed by junk
    const Bytes deflated = deflate_raw(a);
    m = Member{"a.npy", a, 8};
    m.raw = Bytes(deflated.begin(), deflated.end() - 3);
    rejects(make_zip({m}), "the deflate stream is truncated");
    m.raw = deflated;
    m.raw[0] = 0xFF;  // a final block of the reserved type 3
    rejects(make_zip({m}), "corrupt deflate stream");
    m.raw = cat({deflated, {0xAB, 0xCD}});
    rejects(make_zip({m}), "2 bytes of compressed data follow the end");
    const Bytes good = make_zip({{"a.npy", a, 8}});
    // the end record and the central directory
    {
        Bytes b = good;
        Bytes locator = {0x50, 0x4b, 0x06, 0x07};
        locator.resize(20, 0);
        b.insert(b.end() - 22, locator.begin(), locator.end());
        rejects(b, "zip64");
    }
    {
        Bytes b = good;
        set32(b, b.size() - 22 + 16, 0xFFFFFFFFu);
        rejects(b, "zip64");
    }
    {
        Bytes b = good;
        b[b.size() - 22 + 4] = 1;  // this disk
        rejects(b, "multi-disk");
    }
    {
        Bytes b = good;
        set32(b, b.size() - 22 + 16, 1);  // the directory offset
        rejects(b, "does not end where the end record begins");
    }
    {
        Bytes b = good;
        b[b.size() - 22 - (46 + 5)] = 'X';  // the directory entry's signature
        rejects(b, "central directory entry 0: bad signature");
    }
    {
        Bytes b = good;
        b[0] = 'X';  // the local header's signature
        rejects(b, "no local file header at offset 0");
    }
    {
        Bytes b = good;
        set32(b, b.size() - 22 - 5 - 4, 7);  // the local header offset
        rejects(b, "no local file header at offset 7");
    }
    {
        Member z{"a.npy", a, 0};
        z.zip64_central = true;
        Bytes b = make_zip({z});
        b[b.size() - 22 - 20] = 2;  // the extra field's id: no longer zip64
        rejects(b, "no zip64 extra field");
    }
    {
        // the first member's compressed size reaches into the second member
        Bytes b = make_zip({{"a.npy", a, 8}, {"b.npy", a, 0}});
        const std::size_t cd = b.size() - 22 - 2 * (46 + 5);
        set32(b, cd + 20, static_cast<std::uint32_t>(deflated.size() + 10));
        rejects(b, "two entries overlap");
    }
}

// ------------------------------------------------------------------------ writer
TEST_CASE("npy: write_npy round trip and the exact header", "[npy]") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path();
    const std::string path = (dir / "autoreject_test_write.npy").string();
    const double d[6] = {1.0, 2.0, -1.5, 0.5, 0.0, 10000.0};
    io::write_npy(path, d, {2, 3});
    const Bytes written = read_all(path);
    // the header NumPy's format document describes, padded to 128 bytes, then the data
    CHECK(written == npy_file(kDict23, six_doubles()));
    CHECK(written.size() == 128 + 48);
    const io::NpyArray back = io::load_npy(path);
    CHECK(back.as<double>() == std::vector<double>(d, d + 6));

    const std::int64_t l[3] = {-1, 0, 1099511627776LL};
    io::write_npy(path, l, {3});
    CHECK(read_all(path) ==
          npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                   {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0,    0, 0,
                    0,    0,    0,    0,    0,    0,    0,    0,    0, 0x01, 0, 0}));
    CHECK(io::load_npy(path).as<std::int64_t>() == std::vector<std::int64_t>(l, l + 3));

    const std::uint8_t u[4] = {0, 1, 254, 255};
    io::write_npy(path, u, {2, 1, 2});
    CHECK(io::load_npy(path).dtype == "|u1");
    CHECK(io::load_npy(path).shape == std::vector<std::size_t>{2, 1, 2});
    CHECK(io::load_npy(path).as<std::uint8_t>() == std::vector<std::uint8_t>(u, u + 4));

    const double scalar = -1.5;
    io::write_npy(path, &scalar, {});
    CHECK(read_all(path) ==
          npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", kMinus1p5));
    io::write_npy<double>(path, nullptr, {0, 4});
    CHECK(io::load_npy(path).shape == std::vector<std::size_t>{0, 4});
    std::remove(path.c_str());

    CHECK_THROWS_AS(io::write_npy<double>(path, nullptr, {2}), std::invalid_argument);
    CHECK_THROWS_AS(io::write_npy(dir.string() + "/no/such/dir/x.npy", d, {6}), std::runtime_error);
    CHECK_THROWS_AS(io::load_npy(dir.string() + "/no/such/file.npy"), std::runtime_error);
    CHECK_THROWS_AS(io::load_npz(dir.string() + "/no/such/file.npz"), std::runtime_error);
}

// ------------------------------------------------------------------------ files NumPy wrote
TEST_CASE("npy: files NumPy wrote (the fuzz seed corpus)", "[npy][npz]") {
    const std::string dir = AUTOREJECT_FUZZ_CORPUS_DIR;
    if (!std::filesystem::exists(dir + "/savez_stored.npz")) {
        WARN("seed corpus missing at " << dir << ": skipped");
        return;
    }
    // np.savez / np.savez_compressed(a=np.arange(6.).reshape(2, 3),
    //   names=np.array(['Fp1', 'Cz']), flag=np.array([True, False]))
    for (const char* name : {"savez_stored.npz", "savez_deflated.npz"}) {
        INFO(name);
        const auto z = io::load_npz(dir + "/" + name);
        REQUIRE(z.size() == 3);
        CHECK(z.at("a").as<double>() == std::vector<double>{0, 1, 2, 3, 4, 5});
        CHECK(z.at("names").as_strings() == std::vector<std::string>{"Fp1", "Cz"});
        CHECK(z.at("flag").as<std::uint8_t>() == std::vector<std::uint8_t>{1, 0});
    }
    CHECK(io::load_npy(dir + "/f8_2x3_v1.npy").as<double>() ==
          std::vector<double>{0, 1, 2, 3, 4, 5});
    CHECK(io::load_npy(dir + "/f4_3_v2.npy").as<float>() == std::vector<float>{1.5f, -2, 0.25f});
    CHECK(io::load_npy(dir + "/i4_2x2_v3.npy").as<std::int32_t>() ==
          std::vector<std::int32_t>{1, -2, 3, 2147483647});
    CHECK(io::load_npy(dir + "/u4_names.npy").as_strings() ==
          std::vector<std::string>{"Fp1", "Cz", "PO10"});
    CHECK(io::load_npy(dir + "/b1_0d.npy").item<std::uint8_t>() == 1);
    CHECK(io::load_npy(dir + "/i8_empty.npy").shape == std::vector<std::size_t>{0, 3});
    CHECK(io::load_npy(dir + "/u1_4.npy").as<std::uint8_t>() ==
          std::vector<std::uint8_t>{0, 1, 254, 255});
    const std::vector<std::pair<std::string, std::string>> broken = {
        {"bad_truncated_data.npy", "truncated data"},
        {"bad_magic.npy", "bad magic"},
        {"bad_fortran.npy", "fortran_order True"},
        {"bad_big_endian.npy", "big-endian"},
        {"bad_object.npy", "object"}};
    for (const auto& b : broken) {
        CHECK_THROWS_WITH(io::load_npy(dir + "/" + b.first),
                          Contains(b.first) && Contains(b.second));
    }
    CHECK_THROWS_WITH(io::load_npz(dir + "/bad_crc.npz"),
                      Contains("bad_crc.npz: entry 'a.npy': CRC-32 mismatch"));
    CHECK_THROWS_AS(io::load_npz(dir + "/bad_truncated.npz"), io::format_error);
}

TEST_CASE("npz: the stored references load", "[npz][references]") {
    const std::string path = std::string(AUTOREJECT_REFERENCES_DIR) + "/synthetic_eeg.npz";
    if (!std::filesystem::exists(path)) {
        WARN("references missing at " << path << ": skipped");
        return;
    }
    const auto z = io::load_npz(path);
    // the generator rounds the epochs to float32 so that they are stored exactly
    const io::NpyArray& data = z.at("epochs_data");
    CHECK(data.dtype == "<f4");
    CHECK(data.shape == std::vector<std::size_t>{60, 32, 193});
    CHECK(data.as<float>().size() == 60 * 32 * 193);
    const std::vector<std::string> names = z.at("thresh_ch_names").as_strings();
    REQUIRE(names.size() == 32);
    CHECK(names.front() == "Fp1");
    CHECK(names.back() == "PO10");
    CHECK(z.at("ar_threshes").dtype == "<f8");
    CHECK(z.at("ar_threshes").shape == std::vector<std::size_t>{32});
    CHECK(z.at("ar_bad_epochs").dtype == "|b1");
    CHECK(z.at("ar_cv").item<std::int64_t>() == 10);
}
