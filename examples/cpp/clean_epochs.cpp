// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
//
// clean_epochs: the autoreject_cpp pipeline as a command-line program, built on the
// installed C++ package alone (find_package(autoreject_cpp); no Python in the process).
//
//   clean_epochs --epochs epochs.npy --channels channels.csv --out DIR [options]
//
// Reads (n_epochs, n_channels, n_times) samples from a .npy file and one line per channel
// from a CSV file, optionally finds bad channels with RANSAC, fits AutoReject, and writes
// the cleaned epochs and the reject log as .npy files that NumPy reads. `clean_epochs
// --help` lists the options; examples/cpp/README.md and docs/cpp.md describe the files.
//
// Exit status: 0 success, 1 processing error (e.g. an output cannot be written),
// 2 usage or input error; the message goes to stderr.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "autoreject/io/npy.hpp"
#include "autoreject/pipeline.hpp"

namespace {

namespace ar = autoreject;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

/// A wrong argument or input file: exit status 2.
class InputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

const char* const kUsage =
    "usage: clean_epochs --epochs EPOCHS.npy --channels CHANNELS.csv --out DIR\n"
    "                    [--cv N] [--method exact|random_search] [--random-state N]\n"
    "                    [--n-interpolate K,K,...] [--consensus F,F,...]\n"
    "                    [--backend auto|scalar|openmp] [--n-jobs N] [--picks P,P,...]\n"
    "                    [--ransac]\n";

const char* const kHelp =
    "\n"
    "Find and repair bad epochs with autoreject_cpp's AutoReject (C++ pipeline).\n"
    "\n"
    "inputs:\n"
    "  --epochs FILE        (n_epochs, n_channels, n_times) float32 or float64 .npy, C order\n"
    "  --channels FILE      CSV with the header name,type,x,y,z,bad: one line per channel\n"
    "                       in the order of the .npy; type as MNE names it (eeg, mag, grad,\n"
    "                       eog, ...); x,y,z in metres (empty or nan when unknown, allowed\n"
    "                       for channels that are not EEG); bad 0 or 1\n"
    "  --out DIR            output folder (created when missing; files in it replaced)\n"
    "\n"
    "options:\n"
    "  --cv N               folds of the consensus / n_interpolate search (default 10)\n"
    "  --method M           threshold search: exact (default) or random_search\n"
    "  --random-state N     seed (0 to 4294967295) of the folds, the random search and\n"
    "                       RANSAC; default: a fresh seed on every run\n"
    "  --n-interpolate L    comma-separated values tried (default 1,4,min(n-1,32))\n"
    "  --consensus L        comma-separated fractions tried (default 0,0.1,...,1)\n"
    "  --backend B          compute backend (default: AUTOREJECT_BACKEND, else auto)\n"
    "  --n-jobs N           threads, -1 for every core (default 1); results do not\n"
    "                       depend on it\n"
    "  --picks L            channel names or types to clean, comma-separated (default:\n"
    "                       the data channels not marked bad)\n"
    "  --ransac             find bad EEG channels with RANSAC first and mark them bad:\n"
    "                       AutoReject then leaves them out (their samples are copied\n"
    "                       unchanged)\n"
    "  -h, --help           show this help\n"
    "\n"
    "outputs in DIR: clean.npy (kept epochs, the input's dtype), labels.npy (float64,\n"
    "n_epochs x n_channels: nan not fitted, 0 good, 1 bad, 2 interpolated),\n"
    "bad_epochs.npy (uint8), kept.npy (int64 indices of the kept epochs), thresholds.csv\n"
    "(name,threshold of each cleaned channel).\n"
    "\n"
    "exit status: 0 success, 1 processing error, 2 usage or input error.\n";

// ------------------------------------------------------------------ options

struct Options {
    std::string epochs;
    std::string channels;
    std::string out;
    std::size_t cv = 10;
    ar::ThresholdMethod method = ar::ThresholdMethod::Exact;
    std::optional<std::uint32_t> random_state;
    std::vector<int> n_interpolate;
    std::vector<double> consensus;
    std::string backend;
    int n_jobs = 1;
    std::vector<std::string> picks;
    bool ransac = false;
    bool help = false;
};

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::string::size_type start = 0;
    for (;;) {
        const std::string::size_type end = text.find(sep, start);
        parts.push_back(text.substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos) {
            return parts;
        }
        start = end + 1;
    }
}

std::string trim(const std::string& text) {
    const char* blanks = " \t\r\n";
    const std::string::size_type first = text.find_first_not_of(blanks);
    if (first == std::string::npos) {
        return std::string();
    }
    const std::string::size_type last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

/// `text` as a whole integer in [lo, hi], or throws naming `what`.
long long parse_integer(const std::string& text, long long lo, long long hi,
                        const std::string& what) {
    const std::string t = trim(text);
    errno = 0;
    char* end = nullptr;
    const long long value = t.empty() ? 0 : std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || end != t.c_str() + t.size() || errno == ERANGE) {
        throw InputError(what + ": '" + text + "' is not an integer");
    }
    if (value < lo || value > hi) {
        throw InputError(what + ": " + t + " is outside [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
    }
    return value;
}

/// `text` as a whole number (strtod's syntax, "nan" and "inf" included), or throws.
double parse_number(const std::string& text, const std::string& what) {
    const std::string t = trim(text);
    errno = 0;
    char* end = nullptr;
    const double value = t.empty() ? 0.0 : std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || (errno == ERANGE && std::isinf(value))) {
        throw InputError(what + ": '" + text + "' is not a number");
    }
    return value;
}

Options parse_args(int argc, char** argv) {
    Options opt;
    std::set<std::string> seen;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            opt.help = true;
            return opt;
        }
        if (arg.rfind("--", 0) != 0) {
            throw InputError("unexpected argument '" + arg + "'; every input is given by an " +
                             "option (--epochs FILE, --channels FILE, --out DIR)");
        }
        std::optional<std::string> inline_value;
        const std::string::size_type eq = arg.find('=');
        if (eq != std::string::npos) {
            inline_value = arg.substr(eq + 1);
            arg.resize(eq);
        }
        if (!seen.insert(arg).second) {
            throw InputError(arg + " is given twice; give each option once");
        }
        if (arg == "--ransac") {
            if (inline_value) {
                throw InputError("--ransac takes no value; write --ransac alone");
            }
            opt.ransac = true;
            continue;
        }
        std::string value;
        if (inline_value) {
            value = *inline_value;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            throw InputError(arg + " needs a value");
        }
        if (arg == "--epochs") {
            opt.epochs = value;
        } else if (arg == "--channels") {
            opt.channels = value;
        } else if (arg == "--out") {
            opt.out = value;
        } else if (arg == "--cv") {
            opt.cv = static_cast<std::size_t>(parse_integer(value, 2, 1000000, "--cv"));
        } else if (arg == "--method") {
            if (value == "exact") {
                opt.method = ar::ThresholdMethod::Exact;
            } else if (value == "random_search") {
                opt.method = ar::ThresholdMethod::RandomSearch;
            } else {
                throw InputError("--method: '" + value +
                                 "' is not a method of the C++ pipeline; use exact or "
                                 "random_search (Bayesian optimisation is Python-only)");
            }
        } else if (arg == "--random-state") {
            opt.random_state =
                static_cast<std::uint32_t>(parse_integer(value, 0, 4294967295LL, "--random-state"));
        } else if (arg == "--n-interpolate") {
            for (const std::string& item : split(value, ',')) {
                opt.n_interpolate.push_back(static_cast<int>(
                    parse_integer(item, 0, std::numeric_limits<int>::max(), "--n-interpolate")));
            }
        } else if (arg == "--consensus") {
            for (const std::string& item : split(value, ',')) {
                opt.consensus.push_back(parse_number(item, "--consensus"));
            }
        } else if (arg == "--backend") {
            opt.backend = value;
        } else if (arg == "--n-jobs") {
            opt.n_jobs = static_cast<int>(parse_integer(value, -1, 4096, "--n-jobs"));
        } else if (arg == "--picks") {
            for (const std::string& item : split(value, ',')) {
                if (trim(item).empty()) {
                    throw InputError("--picks: '" + value + "' holds an empty entry");
                }
                opt.picks.push_back(trim(item));
            }
        } else {
            throw InputError("unknown option " + arg + " (see --help)");
        }
    }
    if (opt.epochs.empty() || opt.channels.empty() || opt.out.empty()) {
        throw InputError("--epochs, --channels and --out are required");
    }
    return opt;
}

// ------------------------------------------------------------------ channels.csv

/// The fields of one CSV line: comma-separated, a field may be double-quoted (a quote
/// inside written twice), blanks around unquoted fields ignored.
std::vector<std::string> csv_fields(const std::string& line, const std::string& where) {
    std::vector<std::string> fields;
    std::string::size_type i = 0;
    for (;;) {
        std::string field;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        if (i < line.size() && line[i] == '"') {
            ++i;
            for (;;) {
                if (i >= line.size()) {
                    throw InputError(where + ": a quoted field is not closed");
                }
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += line[i++];
            }
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
                ++i;
            }
            if (i < line.size() && line[i] != ',') {
                throw InputError(where + ": text after a quoted field; quote the whole field");
            }
        } else {
            const std::string::size_type end = line.find(',', i);
            field = trim(line.substr(i, end == std::string::npos ? end : end - i));
            i = end == std::string::npos ? line.size() : end;
        }
        fields.push_back(field);
        if (i >= line.size()) {
            return fields;
        }
        ++i;  // the comma
    }
}

/// A position coordinate: empty or nan for unknown, else a finite number.
double parse_coordinate(const std::string& text, const std::string& where) {
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.empty() || lower == "nan") {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const double value = parse_number(text, where);
    if (!std::isfinite(value)) {
        throw InputError(where + ": '" + text +
                         "' is not a finite coordinate; write metres, or leave it empty");
    }
    return value;
}

std::vector<ar::ChannelInfo> read_channels(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw InputError("--channels: cannot open '" + path + "'");
    }
    const std::vector<std::string> header = {"name", "type", "x", "y", "z", "bad"};
    std::vector<ar::ChannelInfo> channels;
    std::map<std::string, std::size_t> line_of;
    std::string line;
    std::size_t number = 0;
    bool have_header = false;
    while (std::getline(file, line)) {
        ++number;
        const std::string where = path + ", line " + std::to_string(number);
        if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) {
            line.erase(0, 3);  // a UTF-8 byte-order mark, as spreadsheet programs write
        }
        if (trim(line).empty()) {
            continue;
        }
        const std::vector<std::string> fields = csv_fields(trim(line), where);
        if (!have_header) {
            if (fields != header) {
                throw InputError(where + ": the header is '" + trim(line) +
                                 "'; it must be exactly name,type,x,y,z,bad");
            }
            have_header = true;
            continue;
        }
        if (fields.size() != header.size()) {
            throw InputError(where + ": " + std::to_string(fields.size()) +
                             " columns, expected 6 (name,type,x,y,z,bad)");
        }
        ar::ChannelInfo ch;
        ch.name = fields[0];
        if (ch.name.empty()) {
            throw InputError(where + ": the channel name is empty");
        }
        const auto inserted = line_of.emplace(ch.name, number);
        if (!inserted.second) {
            throw InputError(where + ": the channel name '" + ch.name +
                             "' was already given on line " +
                             std::to_string(inserted.first->second) + "; names must be unique");
        }
        ch.type = fields[1];
        std::transform(ch.type.begin(), ch.type.end(), ch.type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (ch.type.empty()) {
            throw InputError(where + ": the type of '" + ch.name +
                             "' is empty; write an MNE channel type (eeg, mag, grad, eog, ...)");
        }
        for (std::size_t k = 0; k < 3; ++k) {
            ch.position[k] = parse_coordinate(fields[2 + k], where + ", column " + header[2 + k]);
        }
        const int n_unknown = static_cast<int>(std::isnan(ch.position[0])) +
                              static_cast<int>(std::isnan(ch.position[1])) +
                              static_cast<int>(std::isnan(ch.position[2]));
        if (n_unknown != 0 && n_unknown != 3) {
            throw InputError(where + ": the position of '" + ch.name +
                             "' is partly given; give x, y and z, or none of them");
        }
        if (fields[5] == "1") {
            ch.bad = true;
        } else if (fields[5] == "0") {
            ch.bad = false;
        } else {
            throw InputError(where + ", column bad: '" + fields[5] + "' is not 0 or 1");
        }
        channels.push_back(ch);
    }
    if (file.bad()) {
        throw InputError("--channels: reading '" + path + "' failed");
    }
    if (!have_header) {
        throw InputError("--channels: '" + path +
                         "' is empty; it needs the header name,type,x,y,z,bad and one line "
                         "per channel");
    }
    if (channels.empty()) {
        throw InputError("--channels: '" + path + "' lists no channel after its header");
    }
    return channels;
}

/// Indices of the channels named by `picks` (names, or types meaning every channel of the
/// type not marked bad), sorted.
std::vector<std::size_t> resolve_picks(const std::vector<std::string>& picks,
                                       const std::vector<ar::ChannelInfo>& channels) {
    std::set<std::size_t> out;
    for (const std::string& pick : picks) {
        bool found = false;
        for (std::size_t c = 0; c < channels.size(); ++c) {
            if (channels[c].name == pick) {
                out.insert(c);
                found = true;
            }
        }
        if (found) {
            continue;
        }
        for (std::size_t c = 0; c < channels.size(); ++c) {
            if (channels[c].type == pick) {
                found = true;
                if (!channels[c].bad) {
                    out.insert(c);
                }
            }
        }
        if (!found) {
            throw InputError("--picks: '" + pick +
                             "' is neither a channel name nor a channel type of --channels");
        }
    }
    if (out.empty()) {
        throw InputError("--picks: every picked channel is marked bad; pick good channels");
    }
    return std::vector<std::size_t>(out.begin(), out.end());
}

// ------------------------------------------------------------------ the job

std::string format_number(double value) {
    std::ostringstream s;
    s << value;
    return s.str();
}

std::string format_exact(double value) {
    if (std::isnan(value)) {
        return "nan";
    }
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    return buffer;
}

std::string join(const std::vector<std::string>& items, const std::string& none) {
    if (items.empty()) {
        return none;
    }
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i ? " " : "") + items[i];
    }
    return out;
}

template <class T>
int run(const Options& opt, const ar::io::NpyArray& array, std::vector<ar::ChannelInfo> channels) {
    const std::vector<T> samples = array.as<T>();
    const std::size_t n_epochs = array.shape[0];
    const std::size_t n_channels = array.shape[1];
    const std::size_t n_times = array.shape[2];
    std::cout << "clean_epochs: " << n_epochs << " epochs x " << n_channels << " channels x "
              << n_times << " samples (" << (sizeof(T) == 4 ? "float32" : "float64") << ")\n";

    std::vector<std::size_t> picks;
    if (!opt.picks.empty()) {
        picks = resolve_picks(opt.picks, channels);
    }

    std::vector<std::string> ransac_bads;
    if (opt.ransac) {
        ar::RansacParams rp;
        rp.random_state = opt.random_state;
        rp.backend = opt.backend;
        rp.n_jobs = opt.n_jobs;
        const ar::EpochsView<T> view(samples.data(), n_epochs, n_channels, n_times, channels);
        ar::Ransac ransac(rp);
        ransac.fit(view);
        ransac_bads = ransac.bad_channels();
        for (const std::string& name : ransac_bads) {
            const std::size_t c = view.channel_index(name);
            channels[c].bad = true;
            picks.erase(std::remove(picks.begin(), picks.end(), c), picks.end());
        }
        std::cout << "ransac bad channels: " << join(ransac_bads, "none") << "\n";
        if (!opt.picks.empty() && picks.empty()) {
            throw InputError("--picks: RANSAC marked every picked channel bad");
        }
    }

    ar::AutoRejectParams params;
    params.n_interpolate = opt.n_interpolate;
    params.consensus = opt.consensus;
    params.cv = opt.cv;
    params.thresh_method = opt.method;
    params.random_state = opt.random_state;
    params.backend = opt.backend;
    params.n_jobs = opt.n_jobs;
    params.picks = picks;
    ar::AutoReject autoreject(params);
    const ar::EpochsView<T> view(samples.data(), n_epochs, n_channels, n_times, channels);
    autoreject.fit(view);
    const ar::CleanEpochs<T> clean = autoreject.transform(view);
    const ar::RejectLog& log = clean.log;

    for (const auto& entry : autoreject.consensus()) {
        std::cout << entry.first << ": consensus " << format_number(entry.second)
                  << ", n_interpolate " << autoreject.n_interpolate().at(entry.first) << "\n";
    }
    std::vector<std::string> dropped;
    for (std::size_t e = 0; e < log.n_epochs; ++e) {
        if (log.bad_epochs[e] != 0) {
            dropped.push_back(std::to_string(e));
        }
    }
    const auto n_interpolated =
        static_cast<std::size_t>(std::count(log.labels.begin(), log.labels.end(), 2.0));
    std::cout << "kept " << clean.kept.size() << " of " << n_epochs << " epochs\n";
    std::cout << "dropped epochs: " << join(dropped, "none") << "\n";
    std::cout << "channel-epochs interpolated: " << n_interpolated << "\n";

    // outputs
    const std::filesystem::path out(opt.out);
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec || !std::filesystem::is_directory(out)) {
        throw InputError("--out: cannot create the folder '" + opt.out + "'" +
                         (ec ? ": " + ec.message() : std::string()));
    }
    ar::io::write_npy((out / "clean.npy").string(), clean.data.data(),
                      {clean.kept.size(), n_channels, n_times});
    ar::io::write_npy((out / "labels.npy").string(), log.labels.data(), {n_epochs, n_channels});
    ar::io::write_npy((out / "bad_epochs.npy").string(), log.bad_epochs.data(), {n_epochs});
    const std::vector<std::int64_t> kept(clean.kept.begin(), clean.kept.end());
    ar::io::write_npy((out / "kept.npy").string(), kept.data(), {kept.size()});
    const std::string thresholds_path = (out / "thresholds.csv").string();
    std::ofstream thresholds(thresholds_path, std::ios::trunc);
    thresholds << "name,threshold\n";
    for (std::size_t c : autoreject.picks()) {
        const std::string& name = channels[c].name;
        const bool quote = name.find_first_of(",\"") != std::string::npos;
        std::string field = name;
        if (quote) {
            field.clear();
            for (char ch : name) {
                field += ch == '"' ? std::string("\"\"") : std::string(1, ch);
            }
            field = "\"" + field + "\"";
        }
        thresholds << field << "," << format_exact(autoreject.thresholds()[c]) << "\n";
    }
    thresholds.close();
    if (!thresholds) {
        throw std::runtime_error("cannot write '" + thresholds_path + "'");
    }
    std::cout << "wrote clean.npy, labels.npy, bad_epochs.npy, kept.npy, thresholds.csv to "
              << out.string() << "\n";
    return kExitOk;
}

int main_impl(int argc, char** argv) {
    Options opt;
    ar::io::NpyArray array;
    std::vector<ar::ChannelInfo> channels;
    try {
        opt = parse_args(argc, argv);
        if (opt.help) {
            std::cout << kUsage << kHelp;
            return kExitOk;
        }
        try {
            array = ar::io::load_npy(opt.epochs);
        } catch (const std::exception& err) {
            throw InputError(std::string("--epochs: ") + err.what());
        }
        if (array.ndim() != 3) {
            throw InputError("--epochs: '" + opt.epochs + "' holds a " +
                             std::to_string(array.ndim()) +
                             "-d array; it must be (n_epochs, n_channels, n_times)");
        }
        if (array.dtype != "<f4" && array.dtype != "<f8") {
            throw InputError("--epochs: '" + opt.epochs + "' holds dtype '" + array.dtype +
                             "'; save float32 or float64 samples (arr.astype(np.float64))");
        }
        channels = read_channels(opt.channels);
        if (channels.size() != array.shape[1]) {
            throw InputError("--channels: '" + opt.channels + "' lists " +
                             std::to_string(channels.size()) + " channels but '" + opt.epochs +
                             "' holds " + std::to_string(array.shape[1]) +
                             "; give one line per channel of the epochs, in their order");
        }
    } catch (const InputError& err) {
        std::cerr << "clean_epochs: error: " << err.what() << "\n" << kUsage;
        return kExitUsage;
    }
    try {
        if (array.dtype == "<f4") {
            return run<float>(opt, array, channels);
        }
        return run<double>(opt, array, channels);
    } catch (const InputError& err) {
        std::cerr << "clean_epochs: error: " << err.what() << "\n";
        return kExitUsage;
    } catch (const std::invalid_argument& err) {  // the library's verdict on the input
        std::cerr << "clean_epochs: error: " << err.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& err) {
        std::cerr << "clean_epochs: error: " << err.what() << "\n";
        return kExitError;
    }
}

}  // namespace

int main(int argc, char** argv) { return main_impl(argc, argv); }
