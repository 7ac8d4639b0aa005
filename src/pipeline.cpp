// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
