//! Streaming import (being written).
