// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The C++ cleaning pipeline (include/autoreject/pipeline.hpp). Every step follows
// the Python module's order of operations, kernel for kernel, so that the same
// inputs give the same sums: the threshold search's prefix sums and fold means,
// the cross-validation of consensus and n_interpolate, the vote and the labels.
#include "autoreject/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autoreject/algorithms/ransac_decision.hpp"
#include "autoreject/backend.hpp"
#include "autoreject/dispatch.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/kernels/kept_means.hpp"
#include "autoreject/kernels/sum.hpp"
#include "autoreject/parallel.hpp"
#include "autoreject/random.hpp"
#include "autoreject/resident.hpp"

namespace autoreject {

namespace {

using Index = std::vector<std::size_t>;
using LongIndex = std::vector<long long>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------- small helpers

Exec make_exec(const std::string& backend, int n_jobs) {
    Exec exec;
    exec.backend = resolve_backend(backend);
    exec.n_threads = n_jobs > 0 ? n_jobs : 0;
    check_exec(exec);
    return exec;
}

/// The first index of the smallest value, NaN first, as np.argmin.
std::size_t argmin_numpy(const std::vector<double>& v) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (std::isnan(v[i])) {
            return i;
        }
        if (v[i] < v[best]) {
            best = i;
        }
    }
    return best;
}

LongIndex to_long(const Index& idx) { return LongIndex(idx.begin(), idx.end()); }

/// Positions of `values` sorted by `keys`, ties in their given order (a stable
/// argsort).
Index stable_order(const std::vector<double>& keys) {
    Index order(keys.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
    return order;
}

/// Number of sorted `keys` below `bound` (left) or at most `bound` (right),
/// as np.searchsorted.
std::size_t count_below(const std::vector<double>& keys, double bound, bool right) {
    return static_cast<std::size_t>(
        right ? std::upper_bound(keys.begin(), keys.end(), bound) - keys.begin()
              : std::lower_bound(keys.begin(), keys.end(), bound) - keys.begin());
}

bool is_data_type(const std::string& type) {
    static const std::set<std::string> kData = {
        "mag", "grad", "eeg", "ecog", "seeg", "hbo", "hbr", "fnirs_cw_amplitude", "fnirs_od"};
    return kData.count(type) > 0;
}

std::string join_names(const std::vector<ChannelInfo>& channels, const Index& idx,
                       std::size_t at_most = 10) {
    std::string out;
    for (std::size_t i = 0; i < idx.size() && i < at_most; ++i) {
        out += (i ? ", " : "") + channels[idx[i]].name;
    }
    if (idx.size() > at_most) {
        out += ", ...";
    }
    return out;
}

/// Sorted, validated picks: `requested`, or every data channel not marked bad.
Index resolve_picks(const std::vector<ChannelInfo>& channels, const Index& requested,
                    const char* who) {
    Index picks;
    if (requested.empty()) {
        for (std::size_t c = 0; c < channels.size(); ++c) {
            if (!channels[c].bad && is_data_type(channels[c].type)) {
                picks.push_back(c);
            }
        }
        require(!picks.empty(), std::string(who) +
                                    ": no data channel (eeg, mag, grad, ecog, seeg, fnirs) "
                                    "that is not marked bad; set ChannelInfo::type or pass picks");
        return picks;
    }
    picks = requested;
    std::sort(picks.begin(), picks.end());
    for (std::size_t i = 0; i < picks.size(); ++i) {
        require(picks[i] < channels.size(),
                std::string(who) + ": picks holds " + std::to_string(picks[i]) + ", outside [0, " +
                    std::to_string(channels.size()) + "); pass channel indices of the epochs");
        require(i == 0 || picks[i] != picks[i - 1], std::string(who) + ": picks holds channel " +
                                                        std::to_string(picks[i]) +
                                                        " twice; pass each channel once");
    }
    return picks;
}

/// Picks grouped by channel type, in the order of first appearance.
std::vector<std::pair<std::string, Index>> picks_by_type(const std::vector<ChannelInfo>& channels,
                                                         const Index& picks) {
    std::vector<std::pair<std::string, Index>> out;
    for (std::size_t p : picks) {
        const std::string& type = channels[p].type;
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const auto& entry) { return entry.first == type; });
        if (it == out.end()) {
            out.push_back({type, {p}});
        } else {
            it->second.push_back(p);
        }
    }
    return out;
}

/// Epochs in double precision: the caller's buffer itself, or a converted copy.
struct DoubleEpochs {
    const double* x = nullptr;
    std::size_t n_epochs = 0;
    std::size_t n_channels = 0;
    std::size_t n_times = 0;
    const std::vector<ChannelInfo>* channels = nullptr;
    std::vector<double> storage;

    const double* sample(std::size_t e, std::size_t c) const {
        return x + (e * n_channels + c) * n_times;
    }
};

template <class T>
DoubleEpochs as_double(const EpochsView<T>& view) {
    DoubleEpochs d;
    d.n_epochs = view.n_epochs();
    d.n_channels = view.n_channels();
    d.n_times = view.n_times();
    d.channels = &view.channels();
    if constexpr (std::is_same<T, double>::value) {
        d.x = view.data();
    } else {
        const std::size_t n = d.n_epochs * d.n_channels * d.n_times;
        d.storage.assign(view.data(), view.data() + n);
        d.x = d.storage.data();
    }
    return d;
}

/// (n_epochs, picks.size(), n_times) copy of the picked channels.
std::vector<double> picked_copy(const DoubleEpochs& d, const Index& picks) {
    std::vector<double> out(d.n_epochs * picks.size() * d.n_times);
    for (std::size_t e = 0; e < d.n_epochs; ++e) {
        for (std::size_t i = 0; i < picks.size(); ++i) {
            const double* src = d.sample(e, picks[i]);
            std::copy(src, src + d.n_times, out.begin() + (e * picks.size() + i) * d.n_times);
        }
    }
    return out;
}

/// The median of each split's test rows of x (n_rows, row_len): (splits.size(),
/// row_len), split after split. On the GPU x is copied there once for every split.
std::vector<double> test_medians(const std::vector<double>& x, std::size_t n_rows,
                                 std::size_t row_len, const std::vector<Split>& splits,
                                 const Exec& exec, Simd simd) {
    DeviceResidency resident(exec);
    resident.add(x.data(), x.size());
    std::vector<double> medians(splits.size() * row_len);
    for (std::size_t f = 0; f < splits.size(); ++f) {
        const LongIndex test = to_long(splits[f].test);
        dispatch::median_rows(x.data(), n_rows, row_len, test.data(), test.size(),
                              medians.data() + f * row_len, exec, simd);
    }
    return medians;
}

void require_finite(const DoubleEpochs& d, const Index& picks, const char* who) {
    for (std::size_t e = 0; e < d.n_epochs; ++e) {
        for (std::size_t c : picks) {
            const double* x = d.sample(e, c);
            for (std::size_t t = 0; t < d.n_times; ++t) {
                if (!std::isfinite(x[t])) {
                    throw std::invalid_argument(
                        std::string(who) + ": the data hold " +
                        (std::isnan(x[t]) ? "NaN" : "an infinite value") + " in channel '" +
                        (*d.channels)[c].name + "', epoch " + std::to_string(e) + ", sample " +
                        std::to_string(t) +
                        "; repair it, or mark the channel bad (ChannelInfo::bad) or leave it "
                        "out of picks");
                }
            }
        }
    }
}

/// Peak-to-peak amplitude of every channel of every epoch, (n_epochs, n_channels).
std::vector<double> all_peaks(const DoubleEpochs& d, const Exec& exec, Simd simd) {
    std::vector<double> out(d.n_epochs * d.n_channels);
    dispatch::ptp(d.x, d.n_epochs * d.n_channels, d.n_times, out.data(), exec, simd);
    return out;
}

// ------------------------------------------------- interpolation of one group

/// Matrices of one interpolation group ("eeg", "meg", or a type), by bad set,
/// from a user source or from spherical splines on the positions.
class GroupMatrices {
  public:
    GroupMatrices(const std::vector<ChannelInfo>& channels, const std::string& group,
                  const Index& members, const InterpolationSources& sources, const char* who)
        : members_(members) {
        auto it = sources.find(group);
        if (it != sources.end() && it->second) {
            source_ = it->second;
            return;
        }
        require(group == "eeg",
                std::string(who) + ": channels of the '" + group + "' group (" +
                    join_names(channels, members) +
                    ") must be interpolated but no matrices were given; pass a MatrixSource "
                    "for '" +
                    group +
                    "' in interpolators (MEG field mapping lives in the Python module), or "
                    "leave these channels out of picks");
        std::vector<Position> positions;
        for (std::size_t c : members) {
            const Position& p = channels[c].position;
            require(std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]),
                    std::string(who) + ": EEG channel '" + channels[c].name +
                        "' has no finite position; set ChannelInfo::position (metres, head "
                        "frame) for every picked EEG channel");
            positions.push_back(p);
        }
        spline_ = std::make_shared<SplineInterpolator>(std::move(positions));
    }

    const Index& members() const { return members_; }

    /// Matrix from `from` to `to` (global channel indices, ascending).
    Matrix matrix(const Index& from, const Index& to) const {
        Matrix m;
        if (source_) {
            m = source_(from, to);
        } else {
            m = spline_->matrix(local(from), local(to));
        }
        require(m.rows == to.size() && m.cols == from.size() && m.values.size() == m.rows * m.cols,
                "interpolation source returned a " + std::to_string(m.rows) + " x " +
                    std::to_string(m.cols) + " matrix for " + std::to_string(to.size()) +
                    " channels from " + std::to_string(from.size()) +
                    "; it must return (to.size(), from.size())");
        return m;
    }

    /// Leave-one-out rows: channel members[i] from the others, in order.
    std::vector<Matrix> leave_one_out() const {
        if (!source_) {
            Index all(members_.size());
            std::iota(all.begin(), all.end(), 0);
            return spline_->leave_one_out(all);
        }
        std::vector<Matrix> out;
        for (std::size_t i = 0; i < members_.size(); ++i) {
            Index others;
            for (std::size_t j = 0; j < members_.size(); ++j) {
                if (j != i) {
                    others.push_back(members_[j]);
                }
            }
            out.push_back(matrix(others, {members_[i]}));
        }
        return out;
    }

  private:
    Index local(const Index& global) const {
        Index out;
        out.reserve(global.size());
        for (std::size_t c : global) {
            out.push_back(static_cast<std::size_t>(
                std::lower_bound(members_.begin(), members_.end(), c) - members_.begin()));
        }
        return out;
    }

    Index members_;
    MatrixSource source_;
    std::shared_ptr<SplineInterpolator> spline_;
};

/// Repairs, in place, the columns `bad_sets[e]` of each epoch of `data`
/// ((n_epochs, n_cols, n_times), columns = `columns` channels) from the other
/// members of their group. Matrices are computed once per distinct set.
/// Returns the number of (epoch, group) repairs skipped because every member
/// of the group was bad.
std::size_t repair(double* data, std::size_t n_epochs, const Index& columns, std::size_t n_times,
                   const std::vector<Index>& bad_sets, const std::vector<GroupMatrices>& groups,
                   const Exec& exec) {
    // global channel -> column of data
    std::map<std::size_t, std::size_t> column;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        column[columns[i]] = i;
    }
    struct Work {
        std::size_t group;
        Index goods, bads;
        std::vector<std::size_t> epochs;
        Matrix matrix;
    };
    std::map<std::pair<std::size_t, Index>, std::size_t> where;
    std::vector<Work> work;
    std::size_t skipped = 0;
    for (std::size_t e = 0; e < n_epochs; ++e) {
        if (bad_sets[e].empty()) {
            continue;
        }
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const Index& members = groups[g].members();
            Index bads;
            for (std::size_t c : bad_sets[e]) {
                if (std::binary_search(members.begin(), members.end(), c)) {
                    bads.push_back(c);
                }
            }
            if (bads.empty()) {
                continue;
            }
            if (bads.size() == members.size()) {
                ++skipped;
                continue;
            }
            auto key = std::make_pair(g, bads);
            auto it = where.find(key);
            if (it == where.end()) {
                Work w;
                w.group = g;
                for (std::size_t c : members) {
                    if (!std::binary_search(bads.begin(), bads.end(), c)) {
                        w.goods.push_back(c);
                    }
                }
                w.bads = bads;
                it = where.emplace(key, work.size()).first;
                work.push_back(std::move(w));
            }
            work[it->second].epochs.push_back(e);
        }
    }
    // the matrices (one SVD each) on every thread; then the products
    detail::for_each_task(exec, static_cast<std::int64_t>(work.size()), [&](std::int64_t i) {
        Work& w = work[static_cast<std::size_t>(i)];
        w.matrix = groups[w.group].matrix(w.goods, w.bads);
    });
    // an epoch may be repaired in two groups (EEG and MEG): those write disjoint
    // columns from disjoint columns, so the jobs are independent
    std::vector<std::pair<LongIndex, LongIndex>> from_to(work.size());  // columns of data
    std::vector<RepairJob> jobs;
    for (std::size_t i = 0; i < work.size(); ++i) {
        const Work& w = work[i];
        for (std::size_t c : w.goods) {
            from_to[i].first.push_back(static_cast<long long>(column.at(c)));
        }
        for (std::size_t c : w.bads) {
            from_to[i].second.push_back(static_cast<long long>(column.at(c)));
        }
        for (std::size_t e : w.epochs) {
            jobs.push_back({e, from_to[i].first.data(), from_to[i].first.size(),
                            from_to[i].second.data(), from_to[i].second.size(),
                            w.matrix.values.data()});
        }
    }
    dispatch::repair_epochs(data, n_epochs, columns.size(), n_times, jobs.data(), jobs.size(),
                            exec);
    return skipped;
}

std::vector<GroupMatrices> groups_of(const std::vector<ChannelInfo>& channels, const Index& picks,
                                     const InterpolationSources& sources, const char* who) {
    std::vector<std::pair<std::string, Index>> members;
    for (std::size_t p : picks) {
        const std::string group = interpolation_group(channels[p].type);
        auto it = std::find_if(members.begin(), members.end(),
                               [&](const auto& entry) { return entry.first == group; });
        if (it == members.end()) {
            members.push_back({group, {p}});
        } else {
            it->second.push_back(p);
        }
    }
    std::vector<GroupMatrices> out;
    out.reserve(members.size());
    for (const auto& [group, idx] : members) {
        out.emplace_back(channels, group, idx, sources, who);
    }
    return out;
}

// ---------------------------------------------------------------- fold means

/// Cumulative sums of rows sorted by key, kept at chosen prefix lengths: the
/// C++ twin of the Python module's sorted prefixes (same order, same cuts, so
/// the same sums).
struct SortedPrefix {
    std::vector<double> keys;  // sorted keys of the rows
    Index cuts;                // 0, then the stored prefix lengths
    std::vector<double> sums;  // (cuts.size(), n_cols)
    bool right = true;

    SortedPrefix(const double* data, std::size_t n_rows, std::size_t n_cols, const Index& rows,
                 const std::vector<double>& key, const std::vector<double>* bounds, bool side_right,
                 const Exec& exec, Simd simd)
        : right(side_right) {
        std::vector<double> row_keys(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            row_keys[i] = key[rows[i]];
        }
        const Index order = stable_order(row_keys);
        LongIndex sorted_rows(rows.size());
        keys.resize(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            sorted_rows[i] = static_cast<long long>(rows[order[i]]);
            keys[i] = row_keys[order[i]];
        }
        Index wanted;
        if (bounds == nullptr) {
            for (std::size_t k = 1; k <= rows.size(); ++k) {
                wanted.push_back(k);
            }
        } else {
            std::set<std::size_t> unique;
            for (double b : *bounds) {
                const std::size_t k = count_below(keys, b, right);
                if (k > 0) {
                    unique.insert(k);
                }
            }
            wanted.assign(unique.begin(), unique.end());
        }
        cuts.push_back(0);
        cuts.insert(cuts.end(), wanted.begin(), wanted.end());
        sums.assign(cuts.size() * n_cols, 0.0);
        if (!wanted.empty()) {
            const LongIndex long_cuts = to_long(wanted);
            dispatch::prefix_sums(data, n_rows, n_cols, sorted_rows.data(), sorted_rows.size(),
                                  long_cuts.data(), long_cuts.size(), sums.data() + n_cols, exec,
                                  simd);
        }
    }

    std::size_t count(double bound) const { return count_below(keys, bound, right); }
    /// The sum of the first `k` rows (k one of the cuts).
    const double* sum_at(std::size_t k, std::size_t n_cols) const {
        const auto pos =
            static_cast<std::size_t>(std::lower_bound(cuts.begin(), cuts.end(), k) - cuts.begin());
        return sums.data() + pos * n_cols;
    }
};

/// Per-fold means of the training rows with a key below bounds, from one sorted
/// prefix over every row and one per test fold (training = all - test).
struct FoldMeans {
    std::size_t n_cols;
    std::unique_ptr<SortedPrefix> all;
    std::vector<SortedPrefix> tests;

    FoldMeans(const double* data, std::size_t n_rows, std::size_t n_cols_,
              const std::vector<double>& key, const std::vector<Split>& splits,
              const std::vector<double>* bounds, bool right, const Exec& exec, Simd simd)
        : n_cols(n_cols_) {
        std::set<std::size_t> used_set;
        for (const auto& s : splits) {
            used_set.insert(s.train.begin(), s.train.end());
            used_set.insert(s.test.begin(), s.test.end());
        }
        const Index used(used_set.begin(), used_set.end());
        all = std::make_unique<SortedPrefix>(data, n_rows, n_cols, used, key, bounds, right, exec,
                                             simd);
        for (const auto& s : splits) {
            tests.emplace_back(data, n_rows, n_cols, s.test, key, bounds, right, exec, simd);
        }
    }

    /// Mean of fold `f`'s kept training rows for `bound` into `out`; returns
    /// the number kept (the mean is NaN where it is 0).
    std::size_t mean(std::size_t f, double bound, double* out) const {
        const std::size_t k_all = all->count(bound);
        const std::size_t k_test = tests[f].count(bound);
        const double* a = all->sum_at(k_all, n_cols);
        const double* b = tests[f].sum_at(k_test, n_cols);
        const double n = static_cast<double>(k_all - k_test);
        for (std::size_t t = 0; t < n_cols; ++t) {
            out[t] = (a[t] - b[t]) / n;
        }
        return k_all - k_test;
    }
};

// ------------------------------------------------------ per-channel thresholds

/// Leave-one-out augmentation: (2 n_epochs, picks, n_times), the picked epochs
/// then each pick interpolated from the other picks of its group.
std::vector<double> augmented_epochs(const DoubleEpochs& d, const Index& picks,
                                     const InterpolationSources& sources, const Exec& exec) {
    const std::size_t n = d.n_epochs;
    const std::size_t np = picks.size();
    const std::size_t nt = d.n_times;
    std::vector<double> out(2 * n * np * nt);
    const std::vector<double> x = picked_copy(d, picks);
    std::copy(x.begin(), x.end(), out.begin());
    std::copy(x.begin(), x.end(), out.begin() + static_cast<std::ptrdiff_t>(n * np * nt));
    const auto groups = groups_of(*d.channels, picks, sources, "compute_thresholds");
    for (const auto& group : groups) {
        const Index& members = group.members();
        if (members.size() < 2) {
            continue;  // a lone channel has no neighbour: kept as it is
        }
        Index cols;  // the members' columns among the picks
        for (std::size_t c : members) {
            cols.push_back(static_cast<std::size_t>(
                std::lower_bound(picks.begin(), picks.end(), c) - picks.begin()));
        }
        const std::vector<Matrix> rows = group.leave_one_out();
        detail::for_each_task(exec, static_cast<std::int64_t>(n), [&](std::int64_t ei) {
            const auto e = static_cast<std::size_t>(ei);
            const double* src = x.data() + e * np * nt;
            double* dst = out.data() + (n + e) * np * nt;
            for (std::size_t i = 0; i < cols.size(); ++i) {
                double* row = dst + cols[i] * nt;
                std::fill(row, row + nt, 0.0);
                std::size_t k = 0;
                for (std::size_t j = 0; j < cols.size(); ++j) {
                    if (j == i) {
                        continue;
                    }
                    const double w = rows[i](0, k++);
                    const double* s = src + cols[j] * nt;
                    for (std::size_t t = 0; t < nt; ++t) {
                        row[t] += w * s[t];
                    }
                }
            }
        });
    }
    return out;
}

/// The threshold of one channel (column `column` of the augmented data); its
/// kernels run on `kernels_exec`.
double channel_threshold(const std::vector<double>& aug, std::size_t n_rows, std::size_t n_picks,
                         std::size_t n_times, std::size_t column, const std::vector<Split>& splits,
                         const std::vector<double>& medians, const ThresholdParams& params,
                         std::uint32_t seed, const Exec& kernels_exec, Simd simd) {
    // the channel's epochs, contiguous
    std::vector<double> data(n_rows * n_times);
    for (std::size_t r = 0; r < n_rows; ++r) {
        const double* src = aug.data() + (r * n_picks + column) * n_times;
        std::copy(src, src + n_times, data.begin() + static_cast<std::ptrdiff_t>(r * n_times));
    }
    // on the GPU, one copy of the channel's epochs serves every kernel below
    DeviceResidency resident(kernels_exec);
    resident.add(data.data(), data.size());
    std::vector<double> deltas(n_rows);
    dispatch::ptp(data.data(), n_rows, n_times, deltas.data(), kernels_exec, simd);
    const std::size_t n_folds = splits.size();
    // the smallest training peak-to-peak of each fold: a lower threshold still keeps it
    std::vector<double> floors(n_folds, kInf);
    for (std::size_t f = 0; f < n_folds; ++f) {
        for (std::size_t r : splits[f].train) {
            floors[f] = std::min(floors[f], deltas[r]);
        }
    }
    // medians: (n_folds, n_times) of this channel
    std::vector<double> med(n_folds * n_times);
    for (std::size_t f = 0; f < n_folds; ++f) {
        const double* src = medians.data() + (f * n_picks + column) * n_times;
        std::copy(src, src + n_times, med.begin() + static_cast<std::ptrdiff_t>(f * n_times));
    }
    std::vector<double> sorted = deltas;
    std::sort(sorted.begin(), sorted.end());

    if (params.method == ThresholdMethod::RandomSearch) {
        const std::vector<double> candidates =
            random_search_draws(sorted.front(), sorted.back(), 20, seed);
        const std::size_t n_train = splits[0].train.size();
        LongIndex train_idx(n_folds * n_train);
        std::vector<double> train_keys(n_folds * n_train);
        for (std::size_t f = 0; f < n_folds; ++f) {
            for (std::size_t i = 0; i < n_train; ++i) {
                train_idx[f * n_train + i] = static_cast<long long>(splits[f].train[i]);
                train_keys[f * n_train + i] = deltas[splits[f].train[i]];
            }
        }
        std::vector<double> bounds(candidates.size() * n_folds);
        for (std::size_t c = 0; c < candidates.size(); ++c) {
            for (std::size_t f = 0; f < n_folds; ++f) {
                bounds[c * n_folds + f] = std::max(candidates[c], floors[f]);
            }
        }
        KeptMeansShape shape;
        shape.n_rows = n_rows;
        shape.n_times = n_times;
        shape.n_folds = n_folds;
        shape.n_train = n_train;
        shape.n_bounds = candidates.size();
        std::vector<double> losses(candidates.size());
        dispatch::threshold_losses(data.data(), train_idx.data(), train_keys.data(), bounds.data(),
                                   med.data(), shape, losses.data(), kernels_exec, simd);
        return candidates[argmin_numpy(losses)];
    }

    // exact: every distinct peak-to-peak value is a candidate
    std::vector<double> grid = sorted;
    grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
    const FoldMeans folds(data.data(), n_rows, n_times, deltas, splits, nullptr, true, kernels_exec,
                          simd);
    std::vector<double> losses(grid.size());
    std::vector<double> mean(n_times), scratch(n_times), scores(n_folds);
    for (std::size_t g = 0; g < grid.size(); ++g) {
        for (std::size_t f = 0; f < n_folds; ++f) {
            folds.mean(f, std::max(grid[g], floors[f]), mean.data());
            scores[f] =
                -kernels::rmse(med.data() + f * n_times, mean.data(), n_times, scratch.data());
        }
        losses[g] = -kernels::numpy_mean(scores.data(), static_cast<std::ptrdiff_t>(n_folds));
    }
    return grid[argmin_numpy(losses)];
}

std::uint32_t seed_of(const std::optional<std::uint32_t>& random_state) {
    if (random_state) {
        return *random_state;
    }
    std::random_device device;
    return static_cast<std::uint32_t>(device());
}

/// Thresholds of `picks` (one or several types, each handled alone).
std::vector<double> thresholds_impl(const DoubleEpochs& d, const Index& picks,
                                    const ThresholdParams& params) {
    require(d.n_epochs >= 2, "compute_thresholds: " + std::to_string(d.n_epochs) +
                                 " epoch(s) given; the cross-validation needs at least 2 "
                                 "(10 or more recommended)");
    require_finite(d, picks, "compute_thresholds");
    const Exec exec = make_exec(params.backend, params.n_jobs);
    const Simd simd = resolve_simd();
    const std::uint32_t seed = seed_of(params.random_state);
    std::vector<double> out(picks.size(), kNaN);
    for (const auto& [type, type_picks] : picks_by_type(*d.channels, picks)) {
        const std::size_t np = type_picks.size();
        std::vector<double> data;
        std::vector<int> y;
        std::size_t n_rows = d.n_epochs;
        if (params.augment) {
            data = augmented_epochs(d, type_picks, params.interpolators, exec);
            n_rows = 2 * d.n_epochs;
            y.assign(d.n_epochs, 0);
            y.resize(n_rows, 1);
        } else {
            data = picked_copy(d, type_picks);
            y.assign(n_rows, 1);
        }
        const std::vector<Split> splits = stratified_shuffle_splits(y, 10, 0.2, seed);
        // every channel's test medians, one call per fold
        const std::size_t row_len = np * d.n_times;
        const std::vector<double> medians = test_medians(data, n_rows, row_len, splits, exec, simd);
        // The channels are the tasks (on the host's threads, with cuda too). On the
        // CPU each channel's kernels run serially inside its task; on cuda they run
        // on the device, launched from the task's thread.
        const Exec kernels_exec = exec.backend == Backend::Cuda ? exec : Exec{Backend::Scalar, 1};
        std::vector<double> found(np);
        detail::for_each_task(exec, static_cast<std::int64_t>(np), [&](std::int64_t i) {
            const auto column = static_cast<std::size_t>(i);
            found[column] = channel_threshold(data, n_rows, np, d.n_times, column, splits, medians,
                                              params, seed, kernels_exec, simd);
        });
        for (std::size_t i = 0; i < np; ++i) {
            const auto at = std::lower_bound(picks.begin(), picks.end(), type_picks[i]);
            out[static_cast<std::size_t>(at - picks.begin())] = found[i];
        }
    }
    return out;
}

// ---------------------------------------------------------------- the vote

/// Labels (n_epochs, n_channels): NaN off `picks`, else 1 where the peak-to-peak
/// exceeds the threshold; and the count of 1 per epoch.
void vote(const std::vector<double>& peaks, std::size_t n_epochs, std::size_t n_channels,
          const Index& picks, const std::vector<double>& thresholds, std::vector<double>& labels,
          std::vector<double>& counts, const Exec& exec) {
    const std::size_t np = picks.size();
    std::vector<double> deltas(n_epochs * np);
    std::vector<double> threshes(np);
    for (std::size_t i = 0; i < np; ++i) {
        threshes[i] = thresholds[picks[i]];
        for (std::size_t e = 0; e < n_epochs; ++e) {
            deltas[e * np + i] = peaks[e * n_channels + picks[i]];
        }
    }
    std::vector<std::uint8_t> bad(n_epochs * np);
    std::vector<std::int64_t> n_bad(n_epochs);
    dispatch::vote_bad_epochs(deltas.data(), n_epochs, np, threshes.data(), bad.data(),
                              n_bad.data(), exec);
    labels.assign(n_epochs * n_channels, kNaN);
    counts.assign(n_epochs, 0.0);
    for (std::size_t e = 0; e < n_epochs; ++e) {
        for (std::size_t i = 0; i < np; ++i) {
            labels[e * n_channels + picks[i]] = bad[e * np + i] != 0 ? 1.0 : 0.0;
        }
        counts[e] = static_cast<double>(n_bad[e]);
    }
}

/// Marks with 2 the bad channels to interpolate: all of them in an epoch whose
/// label sum over the picks is at most `n_interp`, else the `n_interp` bad ones
/// with the largest peak-to-peak (ties: the later channel first). Labels of an
/// earlier n_interpolate value count as they are (2 counts twice), as in
/// autoreject's cross-validation.
void interpolation_labels(std::vector<double>& labels, const std::vector<double>& peaks,
                          std::size_t n_epochs, std::size_t n_channels, const Index& picks,
                          int n_interp) {
    for (std::size_t e = 0; e < n_epochs; ++e) {
        double* row = labels.data() + e * n_channels;
        double n_bads = 0.0;
        for (std::size_t p : picks) {
            n_bads += row[p];
        }
        if (n_bads == 0.0) {
            continue;
        }
        Index bad;
        for (std::size_t c = 0; c < n_channels; ++c) {
            if (row[c] == 1.0) {
                bad.push_back(c);
            }
        }
        if (n_bads > static_cast<double>(n_interp)) {
            Index ranked;  // bad picks compete; others never make the cut
            for (std::size_t c : bad) {
                if (std::binary_search(picks.begin(), picks.end(), c)) {
                    ranked.push_back(c);
                }
            }
            std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) {
                const double pa = peaks[e * n_channels + a];
                const double pb = peaks[e * n_channels + b];
                return pa > pb || (pa == pb && a > b);
            });
            const auto n_keep = static_cast<std::size_t>(std::max(n_interp, 0));
            if (ranked.size() > n_keep) {
                ranked.resize(n_keep);
            }
            std::sort(ranked.begin(), ranked.end());
            bad = ranked;
        }
        for (std::size_t c : bad) {
            row[c] = 2.0;
        }
    }
}

std::vector<Index> interpolated_sets(const std::vector<double>& labels, std::size_t n_epochs,
                                     std::size_t n_channels) {
    std::vector<Index> sets(n_epochs);
    for (std::size_t e = 0; e < n_epochs; ++e) {
        for (std::size_t c = 0; c < n_channels; ++c) {
            if (labels[e * n_channels + c] == 2.0) {
                sets[e].push_back(c);
            }
        }
    }
    return sets;
}

std::vector<double> default_consensus() {
    std::vector<double> out(11);
    for (std::size_t i = 0; i < 11; ++i) {
        out[i] = static_cast<double>(i) * 0.1;  // np.linspace(0, 1, 11)
    }
    out[10] = 1.0;
    return out;
}

}  // namespace

// ============================================================== public API

template <class T>
EpochsView<T>::EpochsView(const T* data, std::size_t n_epochs, std::size_t n_channels,
                          std::size_t n_times, const std::vector<ChannelInfo>& channels)
    : data_(data),
      n_epochs_(n_epochs),
      n_channels_(n_channels),
      n_times_(n_times),
      channels_(&channels) {
    require(n_epochs > 0 && n_channels > 0 && n_times > 0,
            "EpochsView: the shape (" + std::to_string(n_epochs) + ", " +
                std::to_string(n_channels) + ", " + std::to_string(n_times) +
                ") is empty; pass at least one epoch, channel and sample");
    require(data != nullptr, "EpochsView: data is null; pass the epochs' samples");
    require(channels.size() == n_channels,
            "EpochsView: channels holds " + std::to_string(channels.size()) +
                " entries for n_channels = " + std::to_string(n_channels) +
                "; pass one ChannelInfo per channel");
    std::set<std::string> names;
    for (std::size_t c = 0; c < channels.size(); ++c) {
        require(!channels[c].name.empty(),
                "EpochsView: channel " + std::to_string(c) + " has no name; name every channel");
        require(names.insert(channels[c].name).second,
                "EpochsView: the channel name '" + channels[c].name +
                    "' appears twice; channel names must be unique");
    }
}

template <class T>
std::size_t EpochsView<T>::channel_index(const std::string& name) const {
    for (std::size_t c = 0; c < channels_->size(); ++c) {
        if ((*channels_)[c].name == name) {
            return c;
        }
    }
    throw std::invalid_argument("no channel is called '" + name + "'");
}

std::string interpolation_group(const std::string& type) {
    if (type == "mag" || type == "grad") {
        return "meg";
    }
    return type;
}

std::size_t RejectLog::n_bad_epochs() const {
    return static_cast<std::size_t>(std::count(bad_epochs.begin(), bad_epochs.end(), 1));
}

template <class T>
std::vector<double> compute_thresholds(const EpochsView<T>& epochs,
                                       const std::vector<std::size_t>& picks,
                                       const ThresholdParams& params) {
    const DoubleEpochs d = as_double(epochs);
    const Index resolved = resolve_picks(epochs.channels(), picks, "compute_thresholds");
    std::vector<double> sorted_out = thresholds_impl(d, resolved, params);
    if (picks.empty()) {
        return sorted_out;
    }
    // in the caller's order
    std::vector<double> out(picks.size());
    for (std::size_t i = 0; i < picks.size(); ++i) {
        const auto at = std::lower_bound(resolved.begin(), resolved.end(), picks[i]);
        out[i] = sorted_out[static_cast<std::size_t>(at - resolved.begin())];
    }
    return out;
}

// ------------------------------------------------------------------ AutoReject

struct AutoReject::Data {
    DoubleEpochs d;
};

namespace {
void check_autoreject_params(const AutoRejectParams& p) {
    require(p.cv >= 2, "AutoReject: cv = " + std::to_string(p.cv) +
                           " folds; the cross-validation needs at least 2");
    for (int n : p.n_interpolate) {
        require(n >= 0, "AutoReject: n_interpolate holds " + std::to_string(n) +
                            "; values must be counts of channels (>= 0)");
    }
    for (double c : p.consensus) {
        require(std::isfinite(c) && c >= 0.0 && c <= 1.0,
                "AutoReject: consensus holds " + std::to_string(c) +
                    "; values must be fractions in [0, 1]");
    }
}
}  // namespace

AutoReject::AutoReject(AutoRejectParams params) : params_(std::move(params)) {
    check_autoreject_params(params_);
}

void AutoReject::check_fitted() const {
    if (!fitted_) {
        throw std::logic_error("AutoReject is not fitted; call fit() first");
    }
}

const std::vector<double>& AutoReject::thresholds() const {
    check_fitted();
    return thresholds_;
}
const std::map<std::string, double>& AutoReject::consensus() const {
    check_fitted();
    return consensus_;
}
const std::map<std::string, int>& AutoReject::n_interpolate() const {
    check_fitted();
    return n_interpolate_;
}
const std::map<std::string, std::vector<double>>& AutoReject::loss() const {
    check_fitted();
    return loss_;
}
const std::vector<std::size_t>& AutoReject::picks() const {
    check_fitted();
    return picks_;
}
double AutoReject::threshold(const std::string& name) const {
    check_fitted();
    for (std::size_t c = 0; c < ch_names_.size(); ++c) {
        if (ch_names_[c] == name && !std::isnan(thresholds_[c])) {
            return thresholds_[c];
        }
    }
    throw std::invalid_argument("AutoReject: no threshold for channel '" + name +
                                "'; it was not among the fitted picks");
}

template <class T>
AutoReject& AutoReject::fit(const EpochsView<T>& epochs) {
    Data data{as_double(epochs)};
    fit_impl(data);
    return *this;
}

void AutoReject::fit_impl(const Data& data) {
    const DoubleEpochs& d = data.d;
    check_autoreject_params(params_);
    const auto& channels = *d.channels;
    const Index picks = resolve_picks(channels, params_.picks, "AutoReject.fit");
    require(d.n_epochs >= params_.cv,
            "AutoReject.fit: " + std::to_string(d.n_epochs) + " epochs for " +
                std::to_string(params_.cv) +
                "-fold cross-validation (cv); pass more epochs or a smaller cv");
    require_finite(d, picks, "AutoReject.fit");
    const Exec exec = make_exec(params_.backend, params_.n_jobs);
    const Simd simd = resolve_simd();

    // the grids count every pick, whatever its type (as the Python module does)
    std::vector<int> n_interp_grid = params_.n_interpolate;
    if (n_interp_grid.empty()) {
        require(picks.size() >= 4,
                "AutoReject.fit: only " + std::to_string(picks.size()) +
                    " channel(s) picked; AutoReject needs at least 4 to be effective (and to "
                    "interpolate). Pick more channels or use get_rejection_threshold");
        n_interp_grid = {1, 4, static_cast<int>(std::min<std::size_t>(picks.size() - 1, 32))};
    }
    for (int n : n_interp_grid) {
        require(static_cast<std::size_t>(n) <= picks.size(),
                "AutoReject.fit: n_interpolate holds " + std::to_string(n) + " but only " +
                    std::to_string(picks.size()) +
                    " channels are picked; use values up to the number of channels");
    }
    std::vector<double> consensus_grid =
        params_.consensus.empty() ? default_consensus() : params_.consensus;
    const auto by_type = picks_by_type(channels, picks);
    for (const auto& [type, type_picks] : by_type) {
        // interpolation (the augmentation and the repairs) draws on the other channels of
        // the type; the Python module only warns here
        require(type_picks.size() >= 4,
                "AutoReject.fit: only " + std::to_string(type_picks.size()) + " '" + type +
                    "' channel(s) picked; each channel type needs at least 4 to interpolate "
                    "from the others. Pick more channels of that type, leave it out of picks, "
                    "or use get_rejection_threshold for a global threshold");
    }

    // thresholds of every pick, type by type
    ThresholdParams tp;
    tp.method = params_.thresh_method;
    tp.random_state = params_.random_state;
    tp.backend = params_.backend;
    tp.n_jobs = params_.n_jobs;
    tp.interpolators = params_.interpolators;
    std::vector<double> thresholds(d.n_channels, kNaN);
    const std::vector<double> peaks = all_peaks(d, exec, simd);
    const std::vector<Split> splits = kfold_splits(d.n_epochs, params_.cv);

    std::map<std::string, double> chosen_consensus;
    std::map<std::string, int> chosen_n_interp;
    std::map<std::string, std::vector<double>> losses;
    for (const auto& [type, type_picks] : by_type) {
        const std::size_t np = type_picks.size();
        const std::vector<int>& grid = n_interp_grid;
        const std::vector<double> t = thresholds_impl(d, type_picks, tp);
        for (std::size_t i = 0; i < np; ++i) {
            thresholds[type_picks[i]] = t[i];
        }
        // the vote, the test medians and the groups, computed once
        std::vector<double> labels, counts;
        vote(peaks, d.n_epochs, d.n_channels, type_picks, thresholds, labels, counts, exec);
        const std::vector<double> x = picked_copy(d, type_picks);
        const std::size_t row_len = np * d.n_times;
        const std::vector<double> medians =
            test_medians(x, d.n_epochs, row_len, splits, exec, simd);
        const auto groups =
            groups_of(channels, type_picks, params_.interpolators, "AutoReject.fit");
        std::vector<double> work = x;  // repaired for each n_interpolate, then restored
        const std::size_t n_cons = consensus_grid.size();
        const std::size_t n_folds = splits.size();
        std::vector<double> loss(n_cons * grid.size() * n_folds, kInf);
        std::vector<double> bounds(n_cons);
        for (std::size_t i = 0; i < n_cons; ++i) {
            bounds[i] = consensus_grid[i] * static_cast<double>(np);
        }
        for (std::size_t j = 0; j < grid.size(); ++j) {
            interpolation_labels(labels, peaks, d.n_epochs, d.n_channels, type_picks, grid[j]);
            const auto sets = interpolated_sets(labels, d.n_epochs, d.n_channels);
            repair(work.data(), d.n_epochs, type_picks, d.n_times, sets, groups, exec);
            // an epoch is good for a consensus when its count is below consensus * n
            const FoldMeans folds(work.data(), d.n_epochs, row_len, counts, splits, &bounds, false,
                                  exec, simd);
            std::vector<double> mean(row_len), scratch(row_len);
            for (std::size_t f = 0; f < n_folds; ++f) {
                for (std::size_t i = 0; i < n_cons; ++i) {
                    const std::size_t kept = folds.mean(f, bounds[i], mean.data());
                    if (bounds[i] > static_cast<double>(grid[j]) && kept > 0) {
                        loss[(i * grid.size() + j) * n_folds + f] = kernels::rmse(
                            medians.data() + f * row_len, mean.data(), row_len, scratch.data());
                    }
                }
            }
            // restore what the repairs wrote
            for (std::size_t e = 0; e < d.n_epochs; ++e) {
                for (std::size_t c : sets[e]) {
                    const auto col = static_cast<std::size_t>(
                        std::lower_bound(type_picks.begin(), type_picks.end(), c) -
                        type_picks.begin());
                    const std::size_t at = (e * np + col) * d.n_times;
                    std::copy(x.begin() + static_cast<std::ptrdiff_t>(at),
                              x.begin() + static_cast<std::ptrdiff_t>(at + d.n_times),
                              work.begin() + static_cast<std::ptrdiff_t>(at));
                }
            }
        }
        std::vector<double> mean_loss(n_cons * grid.size());
        for (std::size_t k = 0; k < mean_loss.size(); ++k) {
            mean_loss[k] = kernels::numpy_mean(loss.data() + k * n_folds,
                                               static_cast<std::ptrdiff_t>(n_folds));
        }
        const std::size_t best = argmin_numpy(mean_loss);
        chosen_consensus[type] = consensus_grid[best / grid.size()];
        chosen_n_interp[type] = grid[best % grid.size()];
        losses[type] = std::move(loss);
    }
    // commit only once everything succeeded
    ch_names_.clear();
    for (const auto& ch : channels) {
        ch_names_.push_back(ch.name);
    }
    picks_ = picks;
    thresholds_ = std::move(thresholds);
    consensus_grid_ = std::move(consensus_grid);
    n_interpolate_grid_ = std::move(n_interp_grid);
    consensus_ = std::move(chosen_consensus);
    n_interpolate_ = std::move(chosen_n_interp);
    loss_ = std::move(losses);
    fitted_ = true;
}

namespace {
/// The fitted picks' positions in `channels`, by name; throws when one is missing.
Index fitted_columns(const std::vector<ChannelInfo>& channels,
                     const std::vector<std::string>& names, const Index& picks, const char* who) {
    require(channels.size() == names.size(),
            std::string(who) + ": the epochs have " + std::to_string(channels.size()) +
                " channels but the model was fitted on " + std::to_string(names.size()) +
                "; pass epochs with the fitted channels, in the fitted order");
    for (std::size_t p : picks) {
        require(channels[p].name == names[p],
                std::string(who) + ": channel " + std::to_string(p) + " is '" + channels[p].name +
                    "' but the model was fitted with '" + names[p] +
                    "' there; pass epochs with the fitted channels, in the fitted order");
    }
    return picks;
}
}  // namespace

RejectLog AutoReject::reject_log_impl(const Data& data) const {
    check_fitted();
    const DoubleEpochs& d = data.d;
    fitted_columns(*d.channels, ch_names_, picks_, "AutoReject");
    const Exec exec = make_exec(params_.backend, params_.n_jobs);
    const std::vector<double> peaks = all_peaks(d, exec, resolve_simd());
    RejectLog log;
    log.n_epochs = d.n_epochs;
    log.n_channels = d.n_channels;
    log.ch_names = ch_names_;
    log.bad_epochs.assign(d.n_epochs, 0);
    log.labels.assign(d.n_epochs * d.n_channels, kNaN);
    for (const auto& [type, type_picks] : picks_by_type(*d.channels, picks_)) {
        std::vector<double> labels, counts;
        vote(peaks, d.n_epochs, d.n_channels, type_picks, thresholds_, labels, counts, exec);
        interpolation_labels(labels, peaks, d.n_epochs, d.n_channels, type_picks,
                             n_interpolate_.at(type));
        const double bound = consensus_.at(type) * static_cast<double>(type_picks.size());
        for (std::size_t e = 0; e < d.n_epochs; ++e) {
            if (counts[e] >= bound) {
                log.bad_epochs[e] = 1;
            }
            for (std::size_t p : type_picks) {
                log.labels[e * d.n_channels + p] = labels[e * d.n_channels + p];
            }
        }
    }
    return log;
}

std::size_t AutoReject::apply_impl(const Data& data, const RejectLog& log, double* out,
                                   std::vector<std::size_t>* kept_out) const {
    const DoubleEpochs& d = data.d;
    require(log.n_epochs == d.n_epochs && log.n_channels == d.n_channels &&
                log.labels.size() == d.n_epochs * d.n_channels &&
                log.bad_epochs.size() == d.n_epochs,
            "AutoReject.transform: the reject log describes " + std::to_string(log.n_epochs) +
                " epochs x " + std::to_string(log.n_channels) + " channels but the epochs are " +
                std::to_string(d.n_epochs) + " x " + std::to_string(d.n_channels) +
                "; pass the log of these epochs");
    Index kept;
    for (std::size_t e = 0; e < d.n_epochs; ++e) {
        if (!log.bad_epochs[e]) {
            kept.push_back(e);
        }
    }
    const std::size_t per_epoch = d.n_channels * d.n_times;
    std::vector<Index> sets(kept.size());
    for (std::size_t k = 0; k < kept.size(); ++k) {
        const double* src = d.x + kept[k] * per_epoch;
        std::copy(src, src + per_epoch, out + k * per_epoch);
        for (std::size_t c = 0; c < d.n_channels; ++c) {
            const double label = log.labels[kept[k] * d.n_channels + c];
            if (label == 2.0) {
                require(std::binary_search(picks_.begin(), picks_.end(), c),
                        "AutoReject.transform: the reject log marks channel '" + ch_names_[c] +
                            "' for interpolation but it was not fitted; labels must be NaN "
                            "off the fitted channels");
                sets[k].push_back(c);
            }
        }
    }
    const Exec exec = make_exec(params_.backend, params_.n_jobs);
    Index all_channels(d.n_channels);
    std::iota(all_channels.begin(), all_channels.end(), 0);
    const auto groups =
        groups_of(*d.channels, picks_, params_.interpolators, "AutoReject.transform");
    repair(out, kept.size(), all_channels, d.n_times, sets, groups, exec);
    if (kept_out != nullptr) {
        *kept_out = kept;
    }
    return kept.size();
}

template <class T>
RejectLog AutoReject::get_reject_log(const EpochsView<T>& epochs) const {
    check_fitted();
    return reject_log_impl(Data{as_double(epochs)});
}

template <class T>
CleanEpochs<T> AutoReject::transform(const EpochsView<T>& epochs, const RejectLog* log) const {
    check_fitted();
    const Data data{as_double(epochs)};
    CleanEpochs<T> clean;
    clean.log = log ? *log : reject_log_impl(data);
    const std::size_t per_epoch = epochs.n_channels() * epochs.n_times();
    std::vector<double> out(epochs.n_epochs() * per_epoch);
    const std::size_t n_kept = apply_impl(data, clean.log, out.data(), &clean.kept);
    clean.data.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n_kept * per_epoch));
    return clean;
}

template <class T>
std::size_t AutoReject::transform_into(const EpochsView<T>& epochs, T* out,
                                       RejectLog* log_out) const {
    check_fitted();
    require(out != nullptr,
            "AutoReject.transform_into: out is null; pass a buffer of "
            "n_epochs * n_channels * n_times values");
    const Data data{as_double(epochs)};
    RejectLog log = reject_log_impl(data);
    std::size_t n_kept = 0;
    if constexpr (std::is_same<T, double>::value) {
        n_kept = apply_impl(data, log, out, nullptr);
    } else {
        std::vector<double> work(epochs.n_epochs() * epochs.n_channels() * epochs.n_times());
        n_kept = apply_impl(data, log, work.data(), nullptr);
        const std::size_t n = n_kept * epochs.n_channels() * epochs.n_times();
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = static_cast<T>(work[i]);
        }
    }
    if (log_out != nullptr) {
        *log_out = std::move(log);
    }
    return n_kept;
}

// ---------------------------------------------------------------------- Ransac

struct Ransac::Data {
    DoubleEpochs d;
};

namespace {
void check_ransac_params(const RansacParams& p) {
    require(p.n_resample >= 1, "Ransac: n_resample = 0; draw at least one subset");
    require(std::isfinite(p.min_channels) && p.min_channels > 0.0 && p.min_channels <= 1.0,
            "Ransac: min_channels = " + std::to_string(p.min_channels) +
                " must be a fraction in (0, 1]");
    require(!std::isnan(p.min_corr), "Ransac: min_corr is NaN; pass a correlation");
    require(std::isfinite(p.unbroken_time) && p.unbroken_time >= 0.0 && p.unbroken_time <= 1.0,
            "Ransac: unbroken_time = " + std::to_string(p.unbroken_time) +
                " must be a fraction in [0, 1]");
}
}  // namespace

Ransac::Ransac(RansacParams params) : params_(std::move(params)) { check_ransac_params(params_); }

template <class T>
Ransac& Ransac::fit(const EpochsView<T>& epochs) {
    fit_impl(Data{as_double(epochs)});
    return *this;
}

void Ransac::fit_impl(const Data& data) {
    const DoubleEpochs& d = data.d;
    check_ransac_params(params_);
    const auto& channels = *d.channels;
    Index picks;
    if (params_.picks.empty()) {
        for (std::size_t c = 0; c < channels.size(); ++c) {
            if (!channels[c].bad && channels[c].type == "eeg") {
                picks.push_back(c);
            }
        }
        require(!picks.empty(),
                "Ransac.fit: no EEG channel that is not marked bad; pass picks "
                "(one channel type) and, for non-EEG channels, an interpolator");
    } else {
        picks = resolve_picks(channels, params_.picks, "Ransac.fit");
    }
    for (std::size_t p : picks) {
        require(channels[p].type == channels[picks[0]].type,
                "Ransac.fit: picks mix channel types ('" + channels[picks[0]].type + "' and '" +
                    channels[p].type + "'); pick one type at a time");
    }
    require(params_.interpolator || channels[picks[0]].type == "eeg",
            "Ransac.fit: '" + channels[picks[0]].type +
                "' channels need an interpolator (MatrixSource); spherical splines serve EEG "
                "only");
    require_finite(d, picks, "Ransac.fit");
    const std::size_t n_picks = picks.size();
    Index good;  // pick positions of the channels not marked bad
    for (std::size_t i = 0; i < n_picks; ++i) {
        if (!channels[picks[i]].bad) {
            good.push_back(i);
        }
    }
    const double wanted = params_.min_channels * static_cast<double>(n_picks);
    const auto n_pick = static_cast<std::size_t>(std::nearbyint(wanted));  // half to even
    require(n_pick >= 1, "Ransac.fit: min_channels = " + std::to_string(params_.min_channels) +
                             " selects 0 of the " + std::to_string(n_picks) +
                             " picked channels per subset; increase min_channels");
    require(good.size() >= n_pick, "Ransac.fit: " + std::to_string(good.size()) +
                                       " good channel(s) among the " + std::to_string(n_picks) +
                                       " picked, but min_channels needs " + std::to_string(n_pick) +
                                       " per subset; lower min_channels or unmark bad channels");
    const std::uint32_t seed = seed_of(params_.random_state);
    const auto drawn = ransac_subsets(good.size(), n_pick, params_.n_resample, seed);

    // each subset's matrix onto every pick, in the layout of the kernel
    std::unique_ptr<SplineInterpolator> spline;
    if (!params_.interpolator) {
        std::vector<Position> positions;
        for (std::size_t p : picks) {
            const Position& pos = channels[p].position;
            require(std::isfinite(pos[0]) && std::isfinite(pos[1]) && std::isfinite(pos[2]),
                    "Ransac.fit: EEG channel '" + channels[p].name +
                        "' has no finite position; set ChannelInfo::position");
            positions.push_back(pos);
        }
        spline = std::make_unique<SplineInterpolator>(std::move(positions));
    }
    const Exec exec = make_exec(params_.backend, params_.n_jobs);
    const std::size_t n_resample = params_.n_resample;
    const std::size_t k_max = n_pick;
    LongIndex cols(n_resample * k_max);
    std::vector<long long> counts(n_resample, static_cast<long long>(n_pick));
    std::vector<double> weights(n_resample * n_picks * k_max, 0.0);
    std::vector<std::vector<std::size_t>> subsets(n_resample);
    Index every(n_picks);
    std::iota(every.begin(), every.end(), 0);
    detail::for_each_task(exec, static_cast<std::int64_t>(n_resample), [&](std::int64_t ri) {
        const auto r = static_cast<std::size_t>(ri);
        Index local;  // drawing order, positions among the picks
        for (std::size_t g : drawn[r]) {
            local.push_back(good[g]);
        }
        Matrix m;
        if (spline) {
            m = spline->matrix(local, every);
        } else {
            Index from, to;
            for (std::size_t i : local) {
                from.push_back(picks[i]);
            }
            for (std::size_t i : every) {
                to.push_back(picks[i]);
            }
            m = params_.interpolator(from, to);
            require(m.rows == n_picks && m.cols == n_pick && m.values.size() == n_picks * n_pick,
                    "Ransac.fit: the interpolator returned a " + std::to_string(m.rows) + " x " +
                        std::to_string(m.cols) + " matrix; it must be (to.size(), from.size())");
        }
        // columns ascending, as the kernel sums them
        Index order(n_pick);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](std::size_t a, std::size_t b) { return local[a] < local[b]; });
        for (std::size_t k = 0; k < n_pick; ++k) {
            cols[r * k_max + k] = static_cast<long long>(local[order[k]]);
            for (std::size_t ch = 0; ch < n_picks; ++ch) {
                weights[(r * n_picks + ch) * k_max + k] = m(ch, order[k]);
            }
        }
        for (std::size_t i : local) {
            subsets[r].push_back(picks[i]);
        }
    });
    const std::vector<double> x = picked_copy(d, picks);
    RansacShape shape;
    shape.n_epochs = d.n_epochs;
    shape.n_channels = n_picks;
    shape.n_times = d.n_times;
    shape.n_resample = n_resample;
    shape.k_max = k_max;
    std::vector<double> corr(d.n_epochs * n_picks);
    dispatch::ransac_correlations(x.data(), cols.data(), counts.data(), weights.data(), shape,
                                  corr.data(), exec, resolve_simd());
    std::vector<std::size_t> bad;
    ransac_bad_channels(corr.data(), d.n_epochs, n_picks, params_.min_corr, params_.unbroken_time,
                        bad);
    bad_channels_.clear();
    for (std::size_t i : bad) {
        bad_channels_.push_back(channels[picks[i]].name);
    }
    picks_ = picks;
    corr_ = std::move(corr);
    subsets_ = std::move(subsets);
    fitted_ = true;
}

namespace {
void require_ransac_fitted(bool fitted) {
    if (!fitted) {
        throw std::logic_error("Ransac is not fitted; call fit() first");
    }
}
}  // namespace

const std::vector<std::string>& Ransac::bad_channels() const {
    require_ransac_fitted(fitted_);
    return bad_channels_;
}
const std::vector<std::size_t>& Ransac::picks() const {
    require_ransac_fitted(fitted_);
    return picks_;
}
const std::vector<double>& Ransac::correlations() const {
    require_ransac_fitted(fitted_);
    return corr_;
}
const std::vector<std::vector<std::size_t>>& Ransac::subsets() const {
    require_ransac_fitted(fitted_);
    return subsets_;
}

// ------------------------------------------------------ get_rejection_threshold

template <class T>
std::map<std::string, double> get_rejection_threshold(const EpochsView<T>& epochs,
                                                      const GlobalThresholdParams& params) {
    const DoubleEpochs d = as_double(epochs);
    const auto& channels = *d.channels;
    require(params.cv >= 2, "get_rejection_threshold: cv = " + std::to_string(params.cv) +
                                " folds; pass at least 2");
    require(d.n_epochs >= params.cv, "get_rejection_threshold: " + std::to_string(d.n_epochs) +
                                         " epochs for " + std::to_string(params.cv) +
                                         "-fold cross-validation (cv); pass more epochs");
    std::vector<std::string> types = params.ch_types;
    const bool all_types = types.empty();
    if (all_types) {
        types = {"mag", "grad", "eeg", "eog", "hbo", "hbr", "ecog", "seeg"};
    }
    const Exec exec = make_exec(params.backend, params.n_jobs);
    const Simd simd = resolve_simd();
    const std::vector<Split> splits = kfold_splits(d.n_epochs, params.cv);
    std::map<std::string, double> reject;
    for (const std::string& type : types) {
        Index picks;
        for (std::size_t c = 0; c < channels.size(); ++c) {
            if (channels[c].type == type && !channels[c].bad) {
                picks.push_back(c);
            }
        }
        if (picks.empty()) {
            continue;  // absent types are skipped, as MNE's reject dicts allow
        }
        require_finite(d, picks, "get_rejection_threshold");
        const std::size_t np = picks.size();
        const std::size_t row_len = np * d.n_times;
        const std::vector<double> x = picked_copy(d, picks);
        // on the GPU: one copy for the amplitudes and the medians (test_medians finds it)
        DeviceResidency resident(exec);
        resident.add(x.data(), x.size());
        std::vector<double> peaks(d.n_epochs * np);
        dispatch::ptp(x.data(), d.n_epochs * np, d.n_times, peaks.data(), exec, simd);
        std::vector<double> maxima(d.n_epochs);
        for (std::size_t e = 0; e < d.n_epochs; ++e) {
            maxima[e] =
                *std::max_element(peaks.begin() + static_cast<std::ptrdiff_t>(e * np),
                                  peaks.begin() + static_cast<std::ptrdiff_t>((e + 1) * np));
        }
        const std::vector<double> medians =
            test_medians(x, d.n_epochs, row_len, splits, exec, simd);
        // every distinct maximum is a candidate; sweeping them upwards, each fold's
        // kept training sum grows by the epochs the next candidate admits, so every
        // candidate costs one mean and one RMSE per fold (no pass over all epochs)
        std::vector<double> grid = maxima;
        std::sort(grid.begin(), grid.end());
        grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
        const Index order = stable_order(maxima);
        std::vector<double> scores(grid.size() * splits.size());
        detail::for_each_task(exec, static_cast<std::int64_t>(splits.size()), [&](std::int64_t fi) {
            const auto f = static_cast<std::size_t>(fi);
            std::vector<std::uint8_t> in_train(d.n_epochs, 0);
            for (std::size_t e : splits[f].train) {
                in_train[e] = 1;
            }
            std::vector<double> sum(row_len, 0.0), mean(row_len), scratch(row_len);
            std::size_t kept = 0, next = 0;
            for (std::size_t g = 0; g < grid.size(); ++g) {
                for (; next < order.size() && maxima[order[next]] <= grid[g]; ++next) {
                    const std::size_t e = order[next];
                    if (in_train[e]) {
                        const double* row = x.data() + e * row_len;
                        for (std::size_t t = 0; t < row_len; ++t) {
                            sum[t] += row[t];
                        }
                        ++kept;
                    }
                }
                double& score = scores[g * splits.size() + f];
                if (kept == 0) {
                    score = -kInf;  // a fold keeping no training epoch
                    continue;
                }
                for (std::size_t t = 0; t < row_len; ++t) {
                    mean[t] = sum[t] / static_cast<double>(kept);
                }
                score = -kernels::rmse(medians.data() + f * row_len, mean.data(), row_len,
                                       scratch.data());
            }
        });
        std::vector<double> objective(grid.size());
        for (std::size_t g = 0; g < grid.size(); ++g) {
            objective[g] = -kernels::numpy_mean(scores.data() + g * splits.size(),
                                                static_cast<std::ptrdiff_t>(splits.size()));
        }
        reject[type] = grid[argmin_numpy(objective)];
    }
    require(!reject.empty() || all_types,
            "get_rejection_threshold: none of the requested channel types is present among "
            "the channels not marked bad");
    return reject;
}

// ------------------------------------------------ explicit instantiations

// T is a type: parentheses around it would not compile
// NOLINTBEGIN(bugprone-macro-parentheses)
#define AUTOREJECT_INSTANTIATE(T)                                                            \
    template class EpochsView<T>;                                                            \
    template std::vector<double> compute_thresholds<T>(                                      \
        const EpochsView<T>&, const std::vector<std::size_t>&, const ThresholdParams&);      \
    template AutoReject& AutoReject::fit<T>(const EpochsView<T>&);                           \
    template RejectLog AutoReject::get_reject_log<T>(const EpochsView<T>&) const;            \
    template CleanEpochs<T> AutoReject::transform<T>(const EpochsView<T>&, const RejectLog*) \
        const;                                                                               \
    template std::size_t AutoReject::transform_into<T>(const EpochsView<T>&, T*, RejectLog*) \
        const;                                                                               \
    template Ransac& Ransac::fit<T>(const EpochsView<T>&);                                   \
    template std::map<std::string, double> get_rejection_threshold<T>(                       \
        const EpochsView<T>&, const GlobalThresholdParams&);

AUTOREJECT_INSTANTIATE(float)
AUTOREJECT_INSTANTIATE(double)
#undef AUTOREJECT_INSTANTIATE
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace autoreject
