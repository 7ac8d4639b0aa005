// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file io/npy.hpp
/// @brief A small, strict reader of NumPy `.npy` and `.npz` files, and a `.npy` writer.
///
/// Written from the published descriptions of the formats (NumPy's `.npy` format
/// specification, versions 1.0, 2.0 and 3.0, and PKWARE's ZIP application note).
///
/// What is read:
/// - `.npy` versions 1.0, 2.0 and 3.0 in C order, with a little-endian (or one-byte)
///   dtype among `|b1`, `|i1`, `|u1`, `<i2`, `<u2`, `<i4`, `<u4`, `<i8`, `<u8`, `<f4`,
///   `<f8`, and little-endian unicode strings `<U<n>` (UTF-32 code units);
/// - `.npz`: zip archives whose members are all `.npy` files, stored (method 0) or
///   deflated (method 8), with their CRC-32 and sizes checked. Zip64 extra fields of
///   single entries (NumPy writes them in every local header) are understood; a zip64
///   end of central directory (archives over 4 GiB or 65535 entries) is not.
///
/// Everything else is rejected with an autoreject::io::format_error (a
/// std::invalid_argument) whose message names the file, the archive entry when there
/// is one, and what was wrong. Every length is checked before it is used, so no input
/// makes the reader read out of bounds. Files that cannot be opened, read or written
/// throw std::runtime_error.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace autoreject {
namespace io {

/// A file or buffer that is not a `.npy` / `.npz` this reader understands, or an
/// array asked for as the wrong type. Derives from std::invalid_argument (Python
/// sees ValueError); the message names the source and what was wrong.
class format_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

namespace detail {

/// True on a little-endian host (the byte order of every array this module handles).
inline bool host_little_endian() {
    const std::uint16_t one = 1;
    unsigned char first = 0;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

/// Reverses the bytes of each `itemsize`-byte element of `p[0..n)` (n a multiple).
inline void swap_elements(unsigned char* p, std::size_t n, std::size_t itemsize) {
    if (itemsize < 2) {
        return;
    }
    for (std::size_t i = 0; i + itemsize <= n; i += itemsize) {
        std::reverse(p + i, p + i + itemsize);
    }
}

/// The little-endian 16-bit value at p (p[0..2) must be readable).
inline std::uint16_t le16(const unsigned char* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

/// The little-endian 32-bit value at p (p[0..4) must be readable).
inline std::uint32_t le32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

/// The little-endian 64-bit value at p (p[0..8) must be readable).
inline std::uint64_t le64(const unsigned char* p) {
    return static_cast<std::uint64_t>(le32(p)) | (static_cast<std::uint64_t>(le32(p + 4)) << 32);
}

/// Throws format_error("<where>: <what>").
[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
    throw format_error(where + ": " + what);
}

/// `a * b`, or false when it overflows std::size_t.
inline bool mul_ok(std::size_t a, std::size_t b, std::size_t& out) {
    if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) {
        return false;
    }
    out = a * b;
    return true;
}

/// The canonical descr of a C++ arithmetic type: "<f8", "<i4", "|u1", ...
template <class T>
std::string descr_of() {
    static_assert(std::is_arithmetic<T>::value && !std::is_same<T, bool>::value,
                  "npy arrays map to arithmetic types other than bool (read |b1 as uint8_t)");
    static_assert(!std::is_floating_point<T>::value || sizeof(T) == 4 || sizeof(T) == 8,
                  "only float (<f4) and double (<f8) are supported floating-point types");
    static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                  "npy integers are 1, 2, 4 or 8 bytes");
    std::string d(1, sizeof(T) == 1 ? '|' : '<');
    if (std::is_floating_point<T>::value) {
        d += 'f';
    } else {
        d += std::is_signed<T>::value ? 'i' : 'u';
    }
    return d + std::to_string(sizeof(T));
}

/// What a dtype descr means: its canonical spelling and item size.
struct Dtype {
    std::string canonical;     ///< "<f8", "|b1", "<U4", ...
    std::size_t itemsize = 0;  ///< bytes per element
    char kind = 0;             ///< 'b', 'i', 'u', 'f' or 'U'
};

/// Parses a descr, or throws format_error naming `where`.
inline Dtype parse_descr(const std::string& d, const std::string& where) {
    const std::string supported =
        "supported: |b1, |i1, |u1, <i2, <u2, <i4, <u4, <i8, <u8, <f4, <f8 and <U<n>";
    if (d.empty()) {
        fail(where, "the dtype descr is empty; " + supported);
    }
    const char order = d[0];
    if (order == '>' || order == '!') {
        fail(where, "big-endian dtype '" + d + "' is not supported; " + supported +
                        " (convert with arr.astype(arr.dtype.newbyteorder('<')))");
    }
    if (d.size() >= 2 && (d[1] == 'O' || d[0] == 'O')) {
        fail(where, "object dtype '" + d +
                        "' is not supported: object arrays need pickle; store plain arrays");
    }
    if (order != '<' && order != '|') {
        fail(where, "dtype '" + d + "' has no byte order '<' or '|'; " + supported);
    }
    if (d.size() < 3) {
        fail(where, "dtype '" + d + "' is not supported; " + supported);
    }
    const char kind = d[1];
    std::size_t count = 0;
    for (std::size_t i = 2; i < d.size(); ++i) {
        const char c = d[i];
        if (c < '0' || c > '9' || i > 10 || (i == 2 && c == '0' && d.size() > 3)) {
            fail(where, "dtype '" + d + "' is not supported; " + supported);
        }
        count = count * 10 + static_cast<std::size_t>(c - '0');
    }
    Dtype out;
    out.kind = kind;
    if (kind == 'U') {
        if (order != '<' || count == 0 || !mul_ok(count, 4, out.itemsize)) {
            fail(where, "dtype '" + d + "' is not supported; " + supported);
        }
        out.canonical = d;
        return out;
    }
    const bool size_ok =
        (kind == 'b' && count == 1) ||
        ((kind == 'i' || kind == 'u') && (count == 1 || count == 2 || count == 4 || count == 8)) ||
        (kind == 'f' && (count == 4 || count == 8));
    if (!size_ok || (order == '|' && count != 1)) {
        fail(where, "dtype '" + d + "' is not supported; " + supported);
    }
    out.itemsize = count;
    out.canonical = std::string(1, count == 1 ? '|' : '<') + kind + std::to_string(count);
    return out;
}

/// Product of the dimensions, or throws when it overflows.
inline std::size_t element_count(const std::vector<std::size_t>& shape, const std::string& where) {
    std::size_t n = 1;
    for (std::size_t dim : shape) {
        if (!mul_ok(n, dim, n)) {
            fail(where, "the shape's element count overflows");
        }
    }
    return n;
}

/// "(2, 3)", "(3,)" or "()": a shape as Python writes a tuple.
inline std::string shape_repr(const std::vector<std::size_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
    }
    return s + (shape.size() == 1 ? ",)" : ")");
}

/// The header of a `.npy` file: the dict literal NumPy writes.
struct Header {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
};

/// Parser of the header dict: `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`.
/// Keys in any order, either quote, blanks anywhere between tokens, a trailing comma;
/// exactly the three keys. `allow_long` accepts Python 2's `3L` dimensions (versions 1 and 2).
class HeaderParser {
  public:
    HeaderParser(const char* begin, const char* end, std::string where, bool allow_long)
        : p_(begin), end_(end), where_(std::move(where)), allow_long_(allow_long) {}

    Header parse() {
        Header h;
        skip_blanks();
        if (p_ == end_ || *p_ != '{') {
            fail(where_, "the header is not a dict literal (it must start with '{')");
        }
        ++p_;
        bool seen_descr = false;
        bool seen_order = false;
        bool seen_shape = false;
        for (;;) {
            skip_blanks();
            if (p_ != end_ && *p_ == '}') {
                ++p_;
                break;
            }
            const std::string key = parse_string("a header dict key");
            skip_blanks();
            expect(':', "after the key '" + key + "'");
            skip_blanks();
            if (key == "descr") {
                check_once(seen_descr, key);
                if (p_ != end_ && *p_ == '[') {
                    fail(where_, "structured dtypes (a list descr) are not supported");
                }
                h.descr = parse_string("the value of 'descr'");
            } else if (key == "fortran_order") {
                check_once(seen_order, key);
                h.fortran_order = parse_bool();
            } else if (key == "shape") {
                check_once(seen_shape, key);
                h.shape = parse_shape();
            } else {
                fail(where_, "unexpected header key '" + key +
                                 "'; a .npy header holds exactly 'descr', 'fortran_order' "
                                 "and 'shape'");
            }
            skip_blanks();
            if (p_ != end_ && *p_ == ',') {
                ++p_;
                continue;
            }
            if (p_ != end_ && *p_ == '}') {
                ++p_;
                break;
            }
            fail(where_, "expected ',' or '}' in the header dict" + context());
        }
        skip_blanks();
        if (p_ != end_) {
            fail(where_, "unexpected characters after the header dict" + context());
        }
        if (!seen_descr || !seen_order || !seen_shape) {
            fail(where_, std::string("the header lacks the key '") +
                             (!seen_descr   ? "descr"
                              : !seen_order ? "fortran_order"
                                            : "shape") +
                             "'");
        }
        return h;
    }

  private:
    const char* p_;
    const char* end_;
    std::string where_;
    bool allow_long_;

    std::string context() const {
        if (p_ == end_) {
            return " (the header ends)";
        }
        const char c = *p_;
        if (c >= 0x20 && c < 0x7f) {
            return std::string(" (found '") + c + "')";
        }
        return " (found byte " + std::to_string(static_cast<unsigned char>(c)) + ")";
    }

    void skip_blanks() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
            ++p_;
        }
    }

    void expect(char c, const std::string& where) {
        if (p_ == end_ || *p_ != c) {
            fail(where_, std::string("expected '") + c + "' " + where + context());
        }
        ++p_;
    }

    void check_once(bool& seen, const std::string& key) {
        if (seen) {
            fail(where_, "the header repeats the key '" + key + "'");
        }
        seen = true;
    }

    std::string parse_string(const std::string& what) {
        if (p_ == end_ || (*p_ != '\'' && *p_ != '"')) {
            fail(where_, what + " must be a quoted string" + context());
        }
        const char quote = *p_++;
        std::string s;
        while (p_ != end_ && *p_ != quote) {
            const unsigned char c = static_cast<unsigned char>(*p_);
            if (c == '\\' || c < 0x20 || c >= 0x7f) {
                fail(where_, what + " holds an escape, control or non-ASCII character");
            }
            s += *p_++;
        }
        if (p_ == end_) {
            fail(where_, what + " is an unterminated string");
        }
        ++p_;
        return s;
    }

    bool word(const char* w) {
        const std::size_t n = std::strlen(w);
        if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, w, n) != 0) {
            return false;
        }
        const char* after = p_ + n;
        if (after != end_ && (std::isalnum(static_cast<unsigned char>(*after)) || *after == '_')) {
            return false;
        }
        p_ = after;
        return true;
    }

    bool parse_bool() {
        if (word("True")) {
            return true;
        }
        if (word("False")) {
            return false;
        }
        fail(where_, "'fortran_order' must be True or False" + context());
    }

    std::size_t parse_dim() {
        if (p_ != end_ && *p_ == '-') {
            fail(where_, "the shape has a negative dimension");
        }
        if (p_ == end_ || *p_ < '0' || *p_ > '9') {
            fail(where_, "the shape must be a tuple of non-negative integers" + context());
        }
        const char* start = p_;
        std::size_t v = 0;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
            const std::size_t digit = static_cast<std::size_t>(*p_ - '0');
            if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
                fail(where_, "a shape dimension overflows std::size_t");
            }
            v = v * 10 + digit;
            ++p_;
        }
        if (*start == '0' && p_ - start > 1) {
            fail(where_, "a shape dimension has a leading zero");
        }
        if (allow_long_ && p_ != end_ && *p_ == 'L') {
            ++p_;  // Python 2 long literal, as NumPy wrote under Python 2
        }
        return v;
    }

    std::vector<std::size_t> parse_shape() {
        expect('(', "to open the shape tuple");
        std::vector<std::size_t> shape;
        skip_blanks();
        if (p_ != end_ && *p_ == ')') {
            ++p_;
            return shape;
        }
        for (;;) {
            skip_blanks();
            shape.push_back(parse_dim());
            if (shape.size() > 64) {
                fail(where_, "the shape has more than 64 dimensions");
            }
            skip_blanks();
            if (p_ != end_ && *p_ == ',') {
                ++p_;
                skip_blanks();
                if (p_ != end_ && *p_ == ')') {
                    ++p_;
                    return shape;
                }
                continue;
            }
            if (p_ != end_ && *p_ == ')') {
                if (shape.size() == 1) {
                    fail(where_, "the shape (n) is not a tuple; a 1-d shape is written (n,)");
                }
                ++p_;
                return shape;
            }
            fail(where_, "expected ',' or ')' in the shape" + context());
        }
    }
};

/// Appends the UTF-8 encoding of code point `cp` to `out`, or throws.
inline void append_utf8(std::uint32_t cp, std::string& out, const std::string& where) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        fail(where, "a string holds the invalid code point " + std::to_string(cp));
    }
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Raw deflate (no zlib or gzip wrapper) of `in[0..n_in)` into exactly `n_out` bytes.
inline std::vector<unsigned char> inflate_raw(const unsigned char* in, std::size_t n_in,
                                              std::size_t n_out, const std::string& where) {
    // deflate cannot compress by more than 1032:1, so a larger declared size is a lie
    // (and refusing it bounds what a hostile archive makes us allocate)
    if (n_out / 1032 > n_in) {
        fail(where, "declares " + std::to_string(n_out) + " bytes uncompressed from " +
                        std::to_string(n_in) + " compressed, more than deflate can produce");
    }
    std::vector<unsigned char> out(n_out);
    unsigned char spare = 0;  // zlib refuses a null output pointer, even with no room
    z_stream zs;
    std::memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -15) != Z_OK) {
        throw std::runtime_error(where + ": zlib could not start inflating (out of memory?)");
    }
    struct End {
        z_stream* s;
        ~End() { inflateEnd(s); }
    } end{&zs};
    const std::size_t chunk = UINT_MAX;
    std::size_t in_left = n_in;
    std::size_t out_left = n_out;
    zs.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in));
    zs.avail_in = 0;
    zs.next_out = n_out > 0 ? out.data() : &spare;
    zs.avail_out = 0;
    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            zs.avail_in = static_cast<uInt>(std::min(in_left, chunk));
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0 && out_left > 0) {
            zs.avail_out = static_cast<uInt>(std::min(out_left, chunk));
            out_left -= zs.avail_out;
        }
        const int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            break;
        }
        if (rc == Z_OK) {
            continue;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
            fail(where, "the deflate stream is truncated (it ends before its last block)");
        }
        if (rc == Z_BUF_ERROR && zs.avail_out == 0 && out_left == 0) {
            fail(where, "decompresses to more than the " + std::to_string(n_out) +
                            " bytes the central directory declares");
        }
        if (rc == Z_MEM_ERROR) {
            throw std::runtime_error(where + ": zlib ran out of memory while inflating");
        }
        fail(where, std::string("corrupt deflate stream (zlib: ") +
                        (zs.msg != nullptr ? zs.msg : "error " + std::to_string(rc)) + ")");
    }
    const std::size_t produced = n_out - out_left - zs.avail_out;
    const std::size_t consumed = n_in - in_left - zs.avail_in;
    if (produced != n_out) {
        fail(where, "decompresses to " + std::to_string(produced) +
                        " bytes, but the central "
                        "directory declares " +
                        std::to_string(n_out));
    }
    if (consumed != n_in) {
        fail(where, std::to_string(n_in - consumed) +
                        " bytes of compressed data follow the end of the deflate stream");
    }
    return out;
}

/// CRC-32 (the zip checksum) of `p[0..n)`.
inline std::uint32_t crc32_of(const unsigned char* p, std::size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        const uInt len = static_cast<uInt>(std::min<std::size_t>(n, UINT_MAX));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(p), len);
        p += len;
        n -= len;
    }
    return static_cast<std::uint32_t>(crc);
}

/// The whole content of a file, or std::runtime_error.
inline std::vector<unsigned char> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        throw std::runtime_error("cannot open '" + path + "' for reading: " + std::strerror(errno));
    }
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    if (size < 0) {
        throw std::runtime_error("cannot determine the size of '" + path + "'");
    }
    f.seekg(0, std::ios::beg);
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    if (size > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), size)) {
        throw std::runtime_error("cannot read '" + path + "'");
    }
    return bytes;
}

}  // namespace detail

/// One array read from a `.npy` file (C order, little-endian bytes).
struct NpyArray {
    /// NumPy's descr in canonical spelling: "<f8", "<f4", "<i8", "<i4", "|b1", "|u1",
    /// "<U4", ... (one-byte types with '|', the others with '<').
    std::string dtype;
    /// Dimensions; empty for a 0-d array (which holds one element).
    std::vector<std::size_t> shape;
    /// The data: size() * itemsize() bytes, C order, little-endian.
    std::vector<unsigned char> bytes;

    /// Number of elements: the product of `shape` (1 for a 0-d array).
    /// @throws format_error when the product overflows
    std::size_t size() const { return detail::element_count(shape, "NpyArray::size"); }

    /// Number of dimensions.
    std::size_t ndim() const { return shape.size(); }

    /// Bytes per element, from `dtype`.
    /// @throws format_error when `dtype` is not a supported descr
    std::size_t itemsize() const { return detail::parse_descr(dtype, "NpyArray").itemsize; }

    /// The elements as a vector of T, copied.
    ///
    /// The dtype must match T exactly: double `<f8`, float `<f4`, std::int64_t `<i8`,
    /// std::int32_t `<i4`, std::int16_t `<i2`, std::int8_t `|i1`, the unsigned types
    /// `<u8`, `<u4`, `<u2`, and std::uint8_t `|u1` or `|b1` (bools read as 0 / 1).
    /// @throws std::invalid_argument when the dtype differs or `bytes` does not hold
    ///         size() elements of T
    template <class T>
    std::vector<T> as() const {
        const std::string want = detail::descr_of<T>();
        const bool match =
            dtype == want || (std::is_same<T, std::uint8_t>::value && dtype == "|b1");
        if (!match) {
            throw std::invalid_argument("NpyArray::as: the array's dtype is '" + dtype +
                                        "', not '" + want + "' as the requested type needs");
        }
        const std::size_t n = size();
        if (bytes.size() / sizeof(T) != n || bytes.size() % sizeof(T) != 0) {
            throw std::invalid_argument("NpyArray::as: " + std::to_string(bytes.size()) +
                                        " bytes do not hold the " + std::to_string(n) +
                                        " elements of shape " + detail::shape_repr(shape));
        }
        std::vector<T> out(n);
        if (n > 0) {
            std::memcpy(out.data(), bytes.data(), n * sizeof(T));
            if (!detail::host_little_endian()) {
                detail::swap_elements(reinterpret_cast<unsigned char*>(out.data()), n * sizeof(T),
                                      sizeof(T));
            }
        }
        return out;
    }

    /// The one element of a 0-d (or one-element) array, as T (see as()).
    /// @throws std::invalid_argument when the array does not hold exactly one element
    template <class T>
    T item() const {
        if (size() != 1) {
            throw std::invalid_argument("NpyArray::item: the array has shape " +
                                        detail::shape_repr(shape) + ", not exactly one element");
        }
        return as<T>()[0];
    }

    /// The elements of a `<U<n>` array as UTF-8 strings (ASCII text stays as is),
    /// trailing NUL code units removed as NumPy does.
    /// @throws std::invalid_argument when the dtype is not `<U<n>`, or format_error when
    ///         an element holds an invalid code point
    std::vector<std::string> as_strings() const {
        const detail::Dtype dt = detail::parse_descr(dtype, "NpyArray::as_strings");
        if (dt.kind != 'U') {
            throw std::invalid_argument("NpyArray::as_strings: the array's dtype is '" + dtype +
                                        "', not a unicode string dtype '<U<n>'");
        }
        const std::size_t n = size();
        const std::size_t units = dt.itemsize / 4;
        std::size_t need = 0;
        if (!detail::mul_ok(n, dt.itemsize, need) || bytes.size() != need) {
            throw std::invalid_argument("NpyArray::as_strings: " + std::to_string(bytes.size()) +
                                        " bytes do not hold the elements of shape " +
                                        detail::shape_repr(shape));
        }
        std::vector<std::string> out(n);
        for (std::size_t i = 0; i < n; ++i) {
            const unsigned char* e = bytes.data() + i * dt.itemsize;
            std::size_t len = units;
            while (len > 0 && detail::le32(e + 4 * (len - 1)) == 0) {
                --len;
            }
            for (std::size_t u = 0; u < len; ++u) {
                detail::append_utf8(detail::le32(e + 4 * u), out[i], "NpyArray::as_strings");
            }
        }
        return out;
    }
};

/// Parses a `.npy` file held in memory.
///
/// @param data   the file's bytes
/// @param n      their number; the data after the header must be exactly the array's
/// @param source the name used in error messages (a path, or "<path>: entry 'x.npy'")
/// @throws format_error for a bad magic string, a version other than 1.0, 2.0 or 3.0,
///         a header that is not the expected dict, `fortran_order` True, a big-endian,
///         object or otherwise unsupported dtype, a bool byte other than 0 or 1, or a
///         data length that does not match the shape (truncated or trailing bytes)
inline NpyArray read_npy(const unsigned char* data, std::size_t n,
                         const std::string& source = "<memory>") {
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (data == nullptr && n > 0) {
        throw std::invalid_argument("read_npy: data is null but n = " + std::to_string(n));
    }
    const std::size_t m = std::min<std::size_t>(n, 6);
    if (m > 0 && std::memcmp(data, magic, m) != 0) {
        detail::fail(source,
                     "bad magic string: not a .npy file (it must start with "
                     "\\x93NUMPY)");
    }
    if (n < 10) {
        detail::fail(source,
                     "truncated: " + std::to_string(n) + " bytes, shorter than the .npy preamble");
    }
    const unsigned major = data[6];
    const unsigned minor = data[7];
    if (minor != 0 || major < 1 || major > 3) {
        detail::fail(source, "unsupported .npy format version " + std::to_string(major) + "." +
                                 std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
    }
    const std::size_t preamble = major == 1 ? 10 : 12;
    if (n < preamble) {
        detail::fail(source, "truncated: " + std::to_string(n) +
                                 " bytes, shorter than the version " + std::to_string(major) +
                                 ".0 preamble");
    }
    const std::size_t header_len = major == 1 ? detail::le16(data + 8) : detail::le32(data + 8);
    if (header_len > n - preamble) {
        detail::fail(source, "truncated: the header declares " + std::to_string(header_len) +
                                 " bytes but only " + std::to_string(n - preamble) + " follow");
    }
    const char* h = reinterpret_cast<const char*>(data + preamble);
    const detail::Header header =
        detail::HeaderParser(h, h + header_len, source, major < 3).parse();
    if (header.fortran_order) {
        detail::fail(source,
                     "fortran_order True is not supported; store C-ordered arrays "
                     "(np.ascontiguousarray)");
    }
    const detail::Dtype dt = detail::parse_descr(header.descr, source);
    const std::size_t count = detail::element_count(header.shape, source);
    std::size_t nbytes = 0;
    if (!detail::mul_ok(count, dt.itemsize, nbytes)) {
        detail::fail(source,
                     "the data size of shape " + detail::shape_repr(header.shape) + " overflows");
    }
    const std::size_t avail = n - preamble - header_len;
    const std::string need = "shape " + detail::shape_repr(header.shape) + " of '" + dt.canonical +
                             "' needs " + std::to_string(nbytes) + " bytes";
    if (avail < nbytes) {
        detail::fail(source, "truncated data: " + std::to_string(avail) +
                                 " bytes follow the header, but " + need);
    }
    if (avail > nbytes) {
        detail::fail(source, "size mismatch: " + std::to_string(avail) +
                                 " bytes follow the header, but " + need);
    }
    NpyArray out;
    out.dtype = dt.canonical;
    out.shape = header.shape;
    out.bytes.assign(data + preamble + header_len, data + n);
    if (dt.kind == 'b') {
        for (std::size_t i = 0; i < out.bytes.size(); ++i) {
            if (out.bytes[i] > 1) {
                detail::fail(source, "bool element " + std::to_string(i) + " holds the byte " +
                                         std::to_string(out.bytes[i]) + ", not 0 or 1");
            }
        }
    }
    return out;
}

/// Reads a `.npy` file.
/// @throws std::runtime_error when the file cannot be read, format_error as read_npy
inline NpyArray load_npy(const std::string& path) {
    const std::vector<unsigned char> bytes = detail::read_file(path);
    return read_npy(bytes.data(), bytes.size(), path);
}

/// Parses a `.npz` archive held in memory: every member, keyed by its name without
/// the ".npy" suffix.
///
/// The central directory is authoritative (as for Python's zipfile); each member's
/// local header must agree with it on the name and the method, members may not overlap,
/// and each member's data must inflate to exactly its declared size with the declared
/// CRC-32, then parse as read_npy.
///
/// @param data   the archive's bytes
/// @param n      their number
/// @param source the name used in error messages
/// @throws format_error for anything but a single-disk zip archive of `.npy` members
///         stored or deflated: no end record, a zip64 end record, encrypted members,
///         other compression methods, a CRC or size mismatch, duplicate names, damaged
///         structures; and whatever read_npy rejects in a member
inline std::map<std::string, NpyArray> read_npz(const unsigned char* data, std::size_t n,
                                                const std::string& source = "<memory>") {
    using detail::fail;
    using detail::le16;
    using detail::le32;
    if (data == nullptr && n > 0) {
        throw std::invalid_argument("read_npz: data is null but n = " + std::to_string(n));
    }
    const std::size_t eocd_size = 22;
    const char* not_zip_hint = n >= 6 && data[0] == 0x93 && data[1] == 'N'
                                   ? " (it looks like a .npy file: use read_npy / load_npy)"
                                   : "";
    if (n < eocd_size) {
        fail(source, "not a zip archive: " + std::to_string(n) +
                         " bytes, too short for an end of central directory record" + not_zip_hint);
    }
    // the end record is the last 22 bytes plus a comment of at most 65535 bytes
    std::size_t eocd = 0;
    bool found = false;
    const std::size_t lowest = n - eocd_size > 65535 ? n - eocd_size - 65535 : 0;
    for (std::size_t pos = n - eocd_size + 1; pos-- > lowest;) {
        if (le32(data + pos) == 0x06054b50u && pos + eocd_size + le16(data + pos + 20) == n) {
            eocd = pos;
            found = true;
            break;
        }
    }
    if (!found) {
        fail(source,
             std::string("not a zip archive: no end of central directory record") + not_zip_hint);
    }
    if (eocd >= 20 && le32(data + eocd - 20) == 0x07064b50u) {
        fail(source, "zip64 archives (over 4 GiB or 65535 entries) are not supported");
    }
    const std::size_t this_disk = le16(data + eocd + 4);
    const std::size_t cd_disk = le16(data + eocd + 6);
    const std::size_t entries_here = le16(data + eocd + 8);
    const std::size_t entries = le16(data + eocd + 10);
    const std::size_t cd_size = le32(data + eocd + 12);
    const std::size_t cd_offset = le32(data + eocd + 16);
    if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
        fail(source, "zip64 archives (over 4 GiB or 65535 entries) are not supported");
    }
    if (this_disk != 0 || cd_disk != 0 || entries_here != entries) {
        fail(source, "multi-disk (split) zip archives are not supported");
    }
    if (cd_offset > eocd || cd_size != eocd - cd_offset) {
        fail(source, "the central directory (offset " + std::to_string(cd_offset) + ", " +
                         std::to_string(cd_size) + " bytes) does not end where the end record " +
                         "begins (byte " + std::to_string(eocd) +
                         "): damaged, or data prepended to the archive");
    }
    struct Member {
        std::string key, where;
        std::uint32_t method = 0, crc = 0;
        std::size_t local = 0, data = 0, n_in = 0, n_out = 0;
    };
    std::vector<Member> members;
    std::set<std::string> keys;
    std::size_t q = cd_offset;
    for (std::size_t i = 0; i < entries; ++i) {
        const std::string where_cd = source + ": central directory entry " + std::to_string(i);
        if (eocd - q < 46) {
            fail(where_cd, "truncated: the central directory ends inside the entry");
        }
        const unsigned char* c = data + q;
        if (le32(c) != 0x02014b50u) {
            fail(where_cd, "bad signature: not a central directory entry");
        }
        const std::uint32_t flags = le16(c + 8);
        const std::uint32_t method = le16(c + 10);
        const std::uint32_t crc = le32(c + 16);
        std::uint64_t csize = le32(c + 20);
        std::uint64_t usize = le32(c + 24);
        const std::size_t name_len = le16(c + 28);
        const std::size_t extra_len = le16(c + 30);
        const std::size_t comment_len = le16(c + 32);
        std::uint32_t disk_start = le16(c + 34);
        std::uint64_t local = le32(c + 42);
        const std::size_t entry_len = 46 + name_len + extra_len + comment_len;
        if (eocd - q < entry_len) {
            fail(where_cd,
                 "truncated: its name, extra field or comment runs past the "
                 "central directory");
        }
        const std::string name(reinterpret_cast<const char*>(c + 46), name_len);
        const std::string where = source + ": entry '" + name + "'";
        // zip64 extra field: 8-byte values for the saturated 4-byte fields, in order
        if (usize == 0xFFFFFFFFu || csize == 0xFFFFFFFFu || local == 0xFFFFFFFFu ||
            disk_start == 0xFFFF) {
            const unsigned char* x = c + 46 + name_len;
            const unsigned char* x_end = x + extra_len;
            bool have = false;
            while (x_end - x >= 4) {
                const std::size_t id = le16(x);
                const std::size_t len = le16(x + 2);
                if (static_cast<std::size_t>(x_end - x - 4) < len) {
                    fail(where, "an extra field runs past the extra data");
                }
                if (id == 0x0001) {
                    const unsigned char* v = x + 4;
                    std::size_t left = len;
                    auto take64 = [&](std::uint64_t& field) {
                        if (left < 8) {
                            fail(where, "the zip64 extra field is too short");
                        }
                        field = detail::le64(v);
                        v += 8;
                        left -= 8;
                    };
                    if (usize == 0xFFFFFFFFu) {
                        take64(usize);
                    }
                    if (csize == 0xFFFFFFFFu) {
                        take64(csize);
                    }
                    if (local == 0xFFFFFFFFu) {
                        take64(local);
                    }
                    if (disk_start == 0xFFFF) {
                        if (left < 4) {
                            fail(where, "the zip64 extra field is too short");
                        }
                        disk_start = le32(v);
                    }
                    have = true;
                    break;
                }
                x += 4 + len;
            }
            if (!have) {
                fail(where, "a size or offset is 0xFFFFFFFF but there is no zip64 extra field");
            }
        }
        if ((flags & 0x41u) != 0) {
            fail(where, "the entry is encrypted; encrypted archives are not supported");
        }
        if (method != 0 && method != 8) {
            fail(where, "compression method " + std::to_string(method) +
                            " is not supported (only 0, stored, and 8, deflate)");
        }
        if (disk_start != 0) {
            fail(where, "the entry starts on another disk; split archives are not supported");
        }
        const std::string suffix = ".npy";
        if (name.size() <= suffix.size() ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
            fail(where, "not a .npy member: an .npz archive holds only '<name>.npy' entries");
        }
        const std::string key = name.substr(0, name.size() - suffix.size());
        if (keys.count(key) != 0) {
            fail(where, "the archive holds this name twice");
        }
        // the local header, then the data, both before the central directory
        if (local > cd_offset || cd_offset - local < 30) {
            fail(where, "the local header offset " + std::to_string(local) +
                            " lies outside the archive's data");
        }
        const unsigned char* l = data + local;
        if (le32(l) != 0x04034b50u) {
            fail(where, "bad signature: no local file header at offset " + std::to_string(local));
        }
        const std::uint32_t local_flags = le16(l + 6);
        const std::uint32_t local_method = le16(l + 8);
        const std::size_t local_name_len = le16(l + 26);
        const std::size_t local_extra_len = le16(l + 28);
        const std::size_t data_offset = local + 30 + local_name_len + local_extra_len;
        if (data_offset > cd_offset) {
            fail(where, "the local header runs into the central directory");
        }
        if (local_name_len != name_len || std::memcmp(l + 30, c + 46, name_len) != 0) {
            fail(where, "the local header names '" +
                            std::string(reinterpret_cast<const char*>(l + 30), local_name_len) +
                            "', not the central directory's name");
        }
        if (local_method != method) {
            fail(where, "the local header's compression method " + std::to_string(local_method) +
                            " differs from the central "
                            "directory's " +
                            std::to_string(method));
        }
        if ((local_flags & 0x41u) != 0) {
            fail(where, "the entry is encrypted; encrypted archives are not supported");
        }
        if (csize > cd_offset - data_offset) {
            fail(where, "truncated: " + std::to_string(csize) + " bytes of data declared, " +
                            std::to_string(cd_offset - data_offset) +
                            " before the central directory");
        }
        if (usize > std::numeric_limits<std::size_t>::max()) {
            fail(where, "the uncompressed size does not fit in memory");
        }
        Member member;
        member.key = key;
        member.where = where;
        member.method = method;
        member.crc = crc;
        member.local = static_cast<std::size_t>(local);
        member.data = data_offset;
        member.n_in = static_cast<std::size_t>(csize);
        member.n_out = static_cast<std::size_t>(usize);
        members.push_back(member);
        keys.insert(key);
        q += entry_len;
    }
    if (q != eocd) {
        fail(source, "the central directory holds " + std::to_string(eocd - q) +
                         " bytes after its " + std::to_string(entries) + " entries");
    }
    // overlapping members (a zip bomb's trick) are refused before anything is inflated
    std::vector<std::pair<std::size_t, std::size_t>> extents;  // [local header, data end)
    extents.reserve(members.size());
    for (const Member& m : members) {
        extents.emplace_back(m.local, m.data + m.n_in);
    }
    std::sort(extents.begin(), extents.end());
    for (std::size_t i = 1; i < extents.size(); ++i) {
        if (extents[i].first < extents[i - 1].second) {
            fail(source, "two entries overlap (a damaged or malicious archive)");
        }
    }
    std::map<std::string, NpyArray> out;
    for (const Member& m : members) {
        const unsigned char* payload = data + m.data;
        std::vector<unsigned char> bytes;
        if (m.method == 0) {
            if (m.n_in != m.n_out) {
                fail(m.where, "a stored entry declares " + std::to_string(m.n_in) +
                                  " bytes compressed but " + std::to_string(m.n_out) +
                                  " uncompressed");
            }
            bytes.assign(payload, payload + m.n_in);
        } else {
            bytes = detail::inflate_raw(payload, m.n_in, m.n_out, m.where);
        }
        const std::uint32_t actual = detail::crc32_of(bytes.data(), bytes.size());
        if (actual != m.crc) {
            fail(m.where, "CRC-32 mismatch: the archive says " + std::to_string(m.crc) +
                              ", the data give " + std::to_string(actual) + " (damaged file)");
        }
        out.emplace(m.key, read_npy(bytes.data(), bytes.size(), m.where));
    }
    return out;
}

/// Reads a `.npz` archive (see read_npz).
/// @throws std::runtime_error when the file cannot be read, format_error as read_npz
inline std::map<std::string, NpyArray> load_npz(const std::string& path) {
    const std::vector<unsigned char> bytes = detail::read_file(path);
    return read_npz(bytes.data(), bytes.size(), path);
}

/// A `.npy` file (version 1.0, or 2.0 for headers over 65535 bytes) holding a C-ordered
/// array of T, as bytes. The header is padded with blanks and a newline so that the
/// data start at a multiple of 64 bytes.
///
/// @param data  size elements, C order (may be null when the shape holds no element)
/// @param shape the dimensions; empty for a 0-d array of one element
/// @throws std::invalid_argument when data is null for a non-empty shape or the size
///         overflows
template <class T>
std::vector<unsigned char> npy_bytes(const T* data, const std::vector<std::size_t>& shape) {
    const std::string descr = detail::descr_of<T>();
    const std::size_t count = detail::element_count(shape, "npy_bytes");
    std::size_t nbytes = 0;
    if (!detail::mul_ok(count, sizeof(T), nbytes)) {
        throw std::invalid_argument("npy_bytes: the data size of shape " +
                                    detail::shape_repr(shape) + " overflows");
    }
    if (data == nullptr && count > 0) {
        throw std::invalid_argument("npy_bytes: data is null but shape " +
                                    detail::shape_repr(shape) + " holds " + std::to_string(count) +
                                    " elements");
    }
    std::string header = "{'descr': '" + descr +
                         "', 'fortran_order': False, 'shape': " + detail::shape_repr(shape) + ", }";
    std::size_t preamble = 10;
    if (header.size() + 1 + 64 > 65535) {
        preamble = 12;
    }
    const std::size_t pad = 63 - (preamble + header.size()) % 64;  // blanks before '\n'
    header.append(pad, ' ');
    header += '\n';
    std::vector<unsigned char> out(preamble + header.size() + nbytes);
    const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    std::memcpy(out.data(), magic, 6);
    out[6] = preamble == 10 ? 1 : 2;
    out[7] = 0;
    const std::size_t len = header.size();
    out[8] = static_cast<unsigned char>(len & 0xFF);
    out[9] = static_cast<unsigned char>((len >> 8) & 0xFF);
    if (preamble == 12) {
        out[10] = static_cast<unsigned char>((len >> 16) & 0xFF);
        out[11] = static_cast<unsigned char>((len >> 24) & 0xFF);
    }
    std::memcpy(out.data() + preamble, header.data(), len);
    if (nbytes > 0) {
        unsigned char* body = out.data() + preamble + len;
        std::memcpy(body, data, nbytes);
        if (!detail::host_little_endian()) {
            detail::swap_elements(body, nbytes, sizeof(T));
        }
    }
    return out;
}

/// Writes a C-ordered array of T to a `.npy` file that NumPy (and load_npy) reads back:
/// double as `<f8`, std::int64_t as `<i8`, std::uint8_t as `|u1`, and likewise the other
/// arithmetic types of NpyArray::as.
///
/// @param path  the file, created or overwritten
/// @param data  the product of `shape` elements, C order
/// @param shape the dimensions; empty for a 0-d array
/// @throws std::invalid_argument as npy_bytes; std::runtime_error when writing fails
template <class T>
void write_npy(const std::string& path, const T* data, const std::vector<std::size_t>& shape) {
    const std::vector<unsigned char> bytes = npy_bytes(data, shape);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) {
        throw std::runtime_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
    }
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
        throw std::runtime_error("cannot write '" + path + "'");
    }
}

}  // namespace io
}  // namespace autoreject
