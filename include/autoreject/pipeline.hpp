// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file pipeline.hpp
/// @brief The whole cleaning job from C++: learn per-channel thresholds, choose
/// consensus and n_interpolate by cross-validation, repair and drop epochs
/// (AutoReject), find bad channels (Ransac) and global reject thresholds
/// (get_rejection_threshold), without Python in the process.
///
/// Data come in as an EpochsView: a non-owning, row-major view of
/// (n_epochs, n_channels, n_times) floats or doubles with one ChannelInfo per
/// channel. Computations run in double precision whatever the input type.
///
/// Relation to the Python module: with the same integer `random_state`, the
/// C++ pipeline draws the same folds, random-search candidates and RANSAC
/// subsets as `autoreject_cpp` (NumPy's legacy stream, see random.hpp), and its
/// thresholds, consensus, n_interpolate and reject log equal those of
/// `autoreject_cpp.AutoReject(thresh_method='exact')` on the recordings the
/// tests use. Values that go through BLAS in Python (leave-one-out and repair
/// products) are computed here by plain loops, so thresholds taken from
/// interpolated epochs and repaired samples agree to about 1e-12 relative,
/// not to the last bit. autoreject's Bayesian-optimisation search (a Gaussian
/// process fitted by SciPy) exists in the Python module only: the C++
/// threshold methods are `Exact` (every candidate evaluated, the true
/// minimum of the cross-validated loss) and `RandomSearch` (autoreject's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "autoreject/interpolation.hpp"
#include "autoreject/types.hpp"

namespace autoreject {

/// One channel of the epochs.
struct ChannelInfo {
    std::string name;          ///< unique channel name
    std::string type = "eeg";  ///< MNE channel type: "eeg", "mag", "grad", "eog", ...
    /// Sensor position in metres (head frame). Needed for EEG interpolation and
    /// RANSAC; NaN when unknown.
    Position position = {std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::quiet_NaN()};
    bool bad = false;  ///< marked bad beforehand (MNE's info['bads']): never picked by default
};

/// A non-owning view of epochs: `data[(e * n_channels + c) * n_times + t]`.
///
/// The view keeps pointers to `data` and `channels`; both must outlive it.
/// Nothing the view points to is ever modified by the library.
template <class T>
class EpochsView {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                  "EpochsView holds float or double samples");

  public:
    /// @throws std::invalid_argument when `channels.size() != n_channels`, a
    /// dimension is zero, `data` is null, or channel names are empty or repeated.
    EpochsView(const T* data, std::size_t n_epochs, std::size_t n_channels, std::size_t n_times,
               const std::vector<ChannelInfo>& channels);

    const T* data() const { return data_; }                                  ///< the samples
    std::size_t n_epochs() const { return n_epochs_; }                       ///< epochs
    std::size_t n_channels() const { return n_channels_; }                   ///< channels
    std::size_t n_times() const { return n_times_; }                         ///< samples per epoch
    const std::vector<ChannelInfo>& channels() const { return *channels_; }  ///< channel infos
    /// Index of the channel called `name`. @throws std::invalid_argument if absent.
    std::size_t channel_index(const std::string& name) const;

  private:
    const T* data_;
    std::size_t n_epochs_;
    std::size_t n_channels_;
    std::size_t n_times_;
    const std::vector<ChannelInfo>* channels_;
};

/// Interpolation matrices for one group of channels that are repaired together.
///
/// Called with `from` (good channels) and `to` (channels to repair), indices
/// into the epochs' channels, both ascending; returns the (to.size(), from.size())
/// matrix mapping the good channels' samples to the repaired ones. Must be
/// thread-safe: the pipeline calls it from several threads.
using MatrixSource =
    std::function<Matrix(const std::vector<std::size_t>& from, const std::vector<std::size_t>& to)>;

/// The group a channel type is repaired in: "eeg" for EEG, "meg" for "mag" and
/// "grad" together (as MNE and autoreject do), the type itself otherwise.
std::string interpolation_group(const std::string& type);

/// How the per-channel threshold search picks candidates.
enum class ThresholdMethod {
    Exact,         ///< every observed peak-to-peak value; the smallest loss wins
    RandomSearch,  ///< autoreject's 20 uniform draws (NumPy's stream for an int seed)
};

/// Interpolation sources by group ("eeg", "meg", or a type). "eeg" needs no
/// entry: spherical splines from the channel positions are used. Every other
/// group that must be interpolated needs one (MEG field mapping lives in the
/// Python module).
using InterpolationSources = std::map<std::string, MatrixSource>;

/// Parameters of compute_thresholds().
struct ThresholdParams {
    ThresholdMethod method = ThresholdMethod::Exact;  ///< candidate search
    /// Seed of the folds (StratifiedShuffleSplit, 10 splits, 20 % test) and of
    /// the random search. None draws a seed from std::random_device.
    std::optional<std::uint32_t> random_state;
    /// Whether the epochs are augmented with each channel interpolated from the
    /// others of its group (autoreject's default).
    bool augment = true;
    std::string backend;  ///< scalar, openmp, cuda or auto; empty: AUTOREJECT_BACKEND, else auto
    int n_jobs = 1;       ///< threads (-1 or 0: every core); results do not depend on it
    InterpolationSources interpolators;  ///< see InterpolationSources
};

/// Per-channel peak-to-peak thresholds learnt by cross-validation.
///
/// Each channel type among `picks` is handled separately (augmentation uses the
/// other channels of the same interpolation group among the picks).
///
/// @param epochs the epochs (not modified)
/// @param picks channel indices (empty: every data channel not marked bad)
/// @param params method, seed, augmentation, backend, threads, interpolation sources
/// @return one threshold per pick, in the order of `picks` (sorted when empty)
/// @throws std::invalid_argument for non-finite data, bad picks, fewer than 2
///         epochs, or a group without interpolation source when augmenting.
template <class T>
std::vector<double> compute_thresholds(const EpochsView<T>& epochs,
                                       const std::vector<std::size_t>& picks = {},
                                       const ThresholdParams& params = {});

/// Which epochs are bad and which channels are bad or interpolated in each.
struct RejectLog {
    std::size_t n_epochs = 0;              ///< epochs described
    std::size_t n_channels = 0;            ///< channels of the epochs
    std::vector<std::string> ch_names;     ///< channel names
    std::vector<std::uint8_t> bad_epochs;  ///< 1 where the epoch is dropped
    /// (n_epochs, n_channels): NaN for channels not fitted, 0 good, 1 bad,
    /// 2 bad and interpolated.
    std::vector<double> labels;
    /// The label of channel `c` in epoch `e`.
    double label(std::size_t e, std::size_t c) const { return labels[e * n_channels + c]; }
    /// Number of dropped epochs.
    std::size_t n_bad_epochs() const;
};

/// Repaired epochs without the bad ones, and the log that made them.
template <class T>
struct CleanEpochs {
    std::vector<T> data;            ///< (n_kept, n_channels, n_times), row-major
    std::vector<std::size_t> kept;  ///< original index of each kept epoch
    RejectLog log;                  ///< the reject log applied
};

/// Parameters of AutoReject.
struct AutoRejectParams {
    /// Values tried for the number of worst bad channels interpolated per epoch;
    /// empty: {1, 4, min(n_picks - 1, 32)}.
    std::vector<int> n_interpolate;
    /// Values tried for the fraction of bad channels that drops an epoch; empty:
    /// 0, 0.1, ..., 1.
    std::vector<double> consensus;
    std::size_t cv = 10;  ///< folds of the consensus / n_interpolate cross-validation (KFold)
    ThresholdMethod thresh_method = ThresholdMethod::Exact;  ///< per-channel threshold search
    std::optional<std::uint32_t> random_state;               ///< seed of the threshold search
    std::string backend;  ///< scalar, openmp, cuda or auto; empty: AUTOREJECT_BACKEND, else auto
    int n_jobs = 1;       ///< threads (-1 or 0: every core); results do not depend on it
    std::vector<std::size_t> picks;      ///< channels used (empty: data channels not marked bad)
    InterpolationSources interpolators;  ///< see InterpolationSources
};

/// Find bad epochs and sensors, repair what can be repaired (autoreject's
/// AutoReject). Each channel type is fitted on its own; an epoch is dropped
/// when it is bad for any type.
class AutoReject {
  public:
    /// @throws std::invalid_argument for invalid parameters (checked again at fit).
    explicit AutoReject(AutoRejectParams params = {});

    /// Learn thresholds, consensus and n_interpolate. `epochs` is not modified.
    template <class T>
    AutoReject& fit(const EpochsView<T>& epochs);

    /// The reject log of `epochs` under the fitted parameters.
    /// @throws std::logic_error before fit; std::invalid_argument when the
    ///         fitted channels are missing from `epochs`.
    template <class T>
    RejectLog get_reject_log(const EpochsView<T>& epochs) const;

    /// Repaired copy of `epochs` without its bad epochs (`log` given: applied
    /// instead of the computed one, e.g. an edited log).
    template <class T>
    CleanEpochs<T> transform(const EpochsView<T>& epochs, const RejectLog* log = nullptr) const;

    /// transform() into a buffer the caller owns, of at least
    /// n_epochs * n_channels * n_times values; returns the number of kept
    /// epochs written at its start. `log_out` receives the log when not null.
    template <class T>
    std::size_t transform_into(const EpochsView<T>& epochs, T* out,
                               RejectLog* log_out = nullptr) const;

    /// fit() then transform() on the same epochs.
    template <class T>
    CleanEpochs<T> fit_transform(const EpochsView<T>& epochs) {
        return fit(epochs).transform(epochs);
    }

    bool fitted() const { return fitted_; }                     ///< whether fit() succeeded
    const AutoRejectParams& params() const { return params_; }  ///< the parameters
    /// Threshold of each channel of the fitted epochs (NaN for channels not picked).
    const std::vector<double>& thresholds() const;
    /// Threshold of the channel called `name`. @throws std::invalid_argument if not fitted.
    double threshold(const std::string& name) const;
    const std::map<std::string, double>& consensus() const;   ///< type -> chosen consensus
    const std::map<std::string, int>& n_interpolate() const;  ///< type -> chosen n_interpolate
    /// type -> cross-validation loss, (n_consensus, n_interpolate, n_folds) row-major.
    const std::map<std::string, std::vector<double>>& loss() const;
    const std::vector<std::size_t>& picks() const;  ///< the channels used, sorted
    const std::vector<double>& consensus_grid() const { return consensus_grid_; }       ///< tried
    const std::vector<int>& n_interpolate_grid() const { return n_interpolate_grid_; }  ///< tried

  private:
    struct Data;
    void fit_impl(const Data& data);
    RejectLog reject_log_impl(const Data& data) const;
    std::size_t apply_impl(const Data& data, const RejectLog& log, double* out,
                           std::vector<std::size_t>* kept) const;
    void check_fitted() const;

    AutoRejectParams params_;
    bool fitted_ = false;
    std::vector<std::string> ch_names_;
    std::vector<std::size_t> picks_;
    std::vector<double> thresholds_;
    std::vector<double> consensus_grid_;
    std::vector<int> n_interpolate_grid_;
    std::map<std::string, double> consensus_;
    std::map<std::string, int> n_interpolate_;
    std::map<std::string, std::vector<double>> loss_;
};

/// Parameters of Ransac.
struct RansacParams {
    std::size_t n_resample = 50;  ///< random channel subsets
    double min_channels = 0.25;   ///< fraction of the picked channels in each subset
    double min_corr = 0.75;       ///< correlation below which a channel is bad in an epoch
    double unbroken_time = 0.4;   ///< fraction of epochs a channel may be bad in
    std::optional<std::uint32_t> random_state;  ///< seed of the subsets (NumPy's stream)
    std::string backend;  ///< scalar, openmp, cuda or auto; empty: AUTOREJECT_BACKEND, else auto
    int n_jobs = 1;       ///< threads (-1 or 0: every core)
    std::vector<std::size_t> picks;  ///< channels (one type; empty: EEG data channels)
    /// Matrices from a subset to all picks for non-EEG picks; empty for EEG
    /// (spherical splines from the positions).
    MatrixSource interpolator;
};

/// Bad channels by RANSAC (autoreject's Ransac): each channel is predicted from
/// random subsets of the others; a channel whose correlation with its median
/// prediction stays below `min_corr` in more than `unbroken_time` of the
/// epochs is bad.
class Ransac {
  public:
    /// @throws std::invalid_argument for invalid parameters.
    explicit Ransac(RansacParams params = {});
    /// Find the bad channels of `epochs` (not modified).
    template <class T>
    Ransac& fit(const EpochsView<T>& epochs);
    bool fitted() const { return fitted_; }                ///< whether fit() succeeded
    const std::vector<std::string>& bad_channels() const;  ///< names of the bad channels
    const std::vector<std::size_t>& picks() const;         ///< channels used
    /// (n_epochs, n_picks) correlation of each pick with its median prediction.
    const std::vector<double>& correlations() const;
    /// The subsets drawn, as indices into the epochs' channels.
    const std::vector<std::vector<std::size_t>>& subsets() const;

  private:
    struct Data;
    void fit_impl(const Data& data);
    RansacParams params_;
    bool fitted_ = false;
    std::vector<std::size_t> picks_;
    std::vector<std::string> bad_channels_;
    std::vector<double> corr_;
    std::vector<std::vector<std::size_t>> subsets_;
};

/// Parameters of get_rejection_threshold().
struct GlobalThresholdParams {
    /// Types to estimate; empty: mag, grad, eeg, eog, hbo, hbr, ecog, seeg (those present).
    std::vector<std::string> ch_types;
    std::size_t cv = 5;   ///< KFold folds
    std::string backend;  ///< scalar, openmp, cuda or auto; empty: AUTOREJECT_BACKEND, else auto
    int n_jobs = 1;       ///< threads (-1 or 0: every core)
};

/// One global peak-to-peak threshold per channel type (MNE's `reject` dict),
/// the candidate with the smallest cross-validated loss among every epoch's
/// largest peak-to-peak amplitude (an exhaustive search where autoreject's
/// Python function runs a Bayesian optimisation over the same candidates).
/// Candidates are swept upwards with running sums of the kept training epochs
/// (in candidate order, so losses agree with epoch-order sums to rounding).
/// Channels marked bad are ignored; `cv` folds come from KFold without shuffling.
template <class T>
std::map<std::string, double> get_rejection_threshold(const EpochsView<T>& epochs,
                                                      const GlobalThresholdParams& params = {});

}  // namespace autoreject
