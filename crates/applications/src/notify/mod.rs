//! Notifications: what is said to a household (templates in French and Arabic), and how it
//! gets there (an outbox with a pure retry policy, and two senders).
//!
//! Templates are text the programme edits ([`Templates::overlay`]); the defaults are embedded
//! from `templates/notifications.txt`. A template may only use its own placeholders: an
//! unknown one is refused when the file is loaded, not discovered when a letter goes out.

mod http;
mod outbox;
mod send;
mod templates;

pub use http::{HttpSmsSender, HttpUrl};
pub use outbox::{Channel, DispatchSummary, Message, MessageStatus, RetryPolicy, dispatch};
pub use send::{DeliveryId, FileSender, SendError, Sender};
pub use templates::{Language, Notice, RenderError, TemplateError, Templates, render_str};
