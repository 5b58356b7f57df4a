//! Lifecycle decisions: given what is stored for a clientKey and an
//! authenticated event, what changes. Pure and order-proof:
//! - seed 000, the golden rule: nothing is created or overwritten without a
//!   valid signature (unsigned installs only in legacy mode, only for a new
//!   clientKey on a base URL with no active installation);
//! - `uninstalled` is terminal until a new signed `installed`; `enabled` and
//!   `disabled` never bring an installation back (they race with uninstall);
//! - an event older (by `iat`) than what it would override is ignored, and a
//!   duplicate delivery changes nothing.

use ids::{BaseUrl, InstallationId, UnixTime};

use super::signature::Signature;
use crate::text_enum::text_enum;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleEvent {
    Installed,
    Uninstalled,
    Enabled,
    Disabled,
}

impl LifecycleEvent {
    /// Every callback the app implements: the descriptor, the router and the
    /// route declarations all read this list.
    pub const ALL: [Self; 4] = [Self::Installed, Self::Uninstalled, Self::Enabled, Self::Disabled];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "installed",
            Self::Uninstalled => "uninstalled",
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
        }
    }

    /// The callback path in the descriptor.
    pub fn path(self) -> &'static str {
        match self {
            Self::Installed => "/installed",
            Self::Uninstalled => "/uninstalled",
            Self::Enabled => "/enabled",
            Self::Disabled => "/disabled",
        }
    }

    /// The event whose callback path this is.
    pub(crate) fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.path() == path)
    }
}

text_enum! {
    /// Where an installation is; stored as its name.
    pub enum InstallState {
        Installed => "installed",
        Enabled => "enabled",
        Disabled => "disabled",
        Uninstalled => "uninstalled",
    }
}

/// What the store holds for the event's clientKey.
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    pub state: InstallState,
    pub base_url: BaseUrl,
    pub orphaned: bool,
    pub last_event_iat: UnixTime,
    pub last_install_iat: UnixTime,
    /// Fingerprint of the token of the last accepted install.
    pub last_install_token: Option<String>,
    /// The Forge installation a Connect-on-Forge install joined.
    pub installation_id: Option<InstallationId>,
}

/// The authenticated event.
#[derive(Clone, Debug)]
pub(crate) struct Incoming<'a> {
    pub event: LifecycleEvent,
    pub signature: Signature,
    pub iat: UnixTime,
    pub base_url: &'a BaseUrl,
    /// For `installed`: the body's secret equals the stored one.
    pub same_secret: bool,
    /// Another clientKey holds an active installation for this base URL.
    pub base_url_taken: bool,
    /// Fingerprint of the token that signed this request, if one did.
    pub token_fingerprint: Option<&'a str>,
    /// The `installationId` a Connect-on-Forge install carries.
    pub installation_id: Option<&'a InstallationId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// First install of this clientKey.
    Create,
    /// A new accepted install of a known clientKey: new secret and generation.
    Reinstall {
        state: InstallState,
        renamed_from: Option<BaseUrl>,
    },
    SetState(InstallState),
    /// Accepted with a 2xx, nothing changes.
    Ignore(&'static str),
    /// Refused with a 401, nothing changes.
    Reject(&'static str),
}

pub(crate) fn decide(current: Option<&Snapshot>, incoming: &Incoming<'_>) -> Decision {
    match incoming.event {
        LifecycleEvent::Installed => decide_install(current, incoming),
        LifecycleEvent::Uninstalled => decide_uninstall(current, incoming),
        LifecycleEvent::Enabled => decide_toggle(current, incoming, InstallState::Enabled),
        LifecycleEvent::Disabled => decide_toggle(current, incoming, InstallState::Disabled),
    }
}

fn decide_install(current: Option<&Snapshot>, incoming: &Incoming<'_>) -> Decision {
    if incoming.signature == Signature::Unsigned && (current.is_some() || incoming.base_url_taken) {
        // seed 000: an unsigned install must never replace an existing one.
        return Decision::Reject("unsigned install for an existing installation");
    }
    let Some(current) = current else { return Decision::Create };
    // A new installationId is news even with the same secret: Forge reinstalled the app.
    let same_installation =
        incoming.installation_id.is_none() || incoming.installation_id == current.installation_id.as_ref();
    let same_body = incoming.same_secret && *incoming.base_url == current.base_url && same_installation;
    // The body is not signed: a token seen before may only come back with the same body.
    if incoming.token_fingerprint.is_some() && incoming.token_fingerprint == current.last_install_token.as_deref() {
        return if same_body {
            Decision::Ignore("duplicate install")
        } else {
            Decision::Reject("install token replayed with another body")
        };
    }
    // Older than the last install, or than the uninstall that followed it.
    let stale = incoming.iat < current.last_install_iat
        || (current.state == InstallState::Uninstalled && incoming.iat < current.last_event_iat);
    if stale {
        return Decision::Ignore("stale install: older than the last accepted install or uninstall");
    }
    let duplicate = incoming.iat == current.last_install_iat
        && same_body
        && current.state != InstallState::Uninstalled
        && !current.orphaned;
    if duplicate {
        return Decision::Ignore("duplicate install");
    }
    // An upgrade of a disabled app does not enable it; the host says so with `enabled`.
    let state = match current.state {
        InstallState::Enabled => InstallState::Enabled,
        InstallState::Disabled => InstallState::Disabled,
        InstallState::Installed | InstallState::Uninstalled => InstallState::Installed,
    };
    let renamed_from = (current.base_url != *incoming.base_url).then(|| current.base_url.clone());
    Decision::Reinstall { state, renamed_from }
}

fn decide_uninstall(current: Option<&Snapshot>, incoming: &Incoming<'_>) -> Decision {
    let Some(current) = current else { return Decision::Ignore("unknown installation") };
    if current.state == InstallState::Uninstalled {
        return Decision::Ignore("already uninstalled");
    }
    // Compared with the last *install* only: a `disabled` racing ahead with
    // a later iat must not make the uninstall look stale.
    if incoming.iat < current.last_install_iat {
        return Decision::Ignore("stale uninstall: older than the last install");
    }
    Decision::SetState(InstallState::Uninstalled)
}

fn decide_toggle(current: Option<&Snapshot>, incoming: &Incoming<'_>, target: InstallState) -> Decision {
    let Some(current) = current else { return Decision::Ignore("unknown installation") };
    if current.state == InstallState::Uninstalled {
        return Decision::Ignore("uninstalled until a new signed install");
    }
    if current.orphaned {
        return Decision::Ignore("orphaned installation");
    }
    if incoming.iat < current.last_event_iat {
        return Decision::Ignore("stale event: older than the last accepted event");
    }
    if current.state == target {
        return Decision::Ignore("already in that state");
    }
    Decision::SetState(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleEvent::*;

    /// A base URL that lives as long as the tests (an `Incoming` borrows it).
    fn url(base_url: &str) -> &'static BaseUrl {
        Box::leak(Box::new(BaseUrl::new(base_url)))
    }

    fn installation(id: &str) -> &'static InstallationId {
        Box::leak(Box::new(InstallationId::new(id)))
    }

    fn incoming(event: LifecycleEvent, iat: i64) -> Incoming<'static> {
        let iat = UnixTime::from_secs(iat);
        let signature =
            if matches!(event, Installed | Uninstalled) { Signature::AtlassianRs256 } else { Signature::TenantHs256 };
        Incoming {
            event,
            signature,
            iat,
            base_url: url("https://a.atlassian.net"),
            same_secret: false,
            base_url_taken: false,
            token_fingerprint: None,
            installation_id: None,
        }
    }

    /// Applies a decision the way the store does, for sequence tests.
    fn apply(current: Option<Snapshot>, e: &Incoming<'_>) -> Option<Snapshot> {
        let new = |state| Snapshot {
            state,
            base_url: e.base_url.clone(),
            orphaned: false,
            last_event_iat: e.iat,
            last_install_iat: e.iat,
            last_install_token: e.token_fingerprint.map(str::to_string),
            installation_id: e.installation_id.cloned(),
        };
        match decide(current.as_ref(), e) {
            Decision::Create => Some(new(InstallState::Installed)),
            Decision::Reinstall { state, .. } => Some(new(state)),
            Decision::SetState(state) => {
                current.map(|c| Snapshot { state, last_event_iat: e.iat.max(c.last_event_iat), ..c })
            }
            Decision::Ignore(_) | Decision::Reject(_) => current,
        }
    }

    fn run(events: &[Incoming<'_>]) -> Option<Snapshot> {
        events.iter().fold(None, |current, e| apply(current, e))
    }

    #[test]
    fn a_first_signed_install_creates_and_an_unsigned_one_for_a_known_tenant_is_rejected() {
        assert_eq!(decide(None, &incoming(Installed, 10)), Decision::Create);
        let existing = run(&[incoming(Installed, 10)]).unwrap();
        let unsigned = Incoming { signature: Signature::Unsigned, ..incoming(Installed, 20) };
        assert!(matches!(decide(Some(&existing), &unsigned), Decision::Reject(_)));
        let taken = Incoming { signature: Signature::Unsigned, base_url_taken: true, ..incoming(Installed, 20) };
        assert!(matches!(decide(None, &taken), Decision::Reject(_)), "legacy first install on a taken base URL");
    }

    #[test]
    fn reinstall_keeps_enabled_or_disabled_and_revives_uninstalled() {
        for (before, after) in [
            (Enabled, InstallState::Enabled),
            (Disabled, InstallState::Disabled),
            (Uninstalled, InstallState::Installed),
        ] {
            let state = run(&[incoming(Installed, 10), incoming(before, 20), incoming(Installed, 30)]).unwrap().state;
            assert_eq!(state, after, "after {before:?}");
        }
    }

    #[test]
    fn a_stale_install_after_a_newer_one_is_ignored() {
        let current = run(&[incoming(Installed, 100)]).unwrap();
        assert!(matches!(decide(Some(&current), &incoming(Installed, 99)), Decision::Ignore(_)));
    }

    #[test]
    fn a_duplicate_install_is_ignored_but_a_rotated_secret_is_a_reinstall() {
        let current = run(&[incoming(Installed, 100)]).unwrap();
        let duplicate = Incoming { same_secret: true, ..incoming(Installed, 100) };
        assert_eq!(decide(Some(&current), &duplicate), Decision::Ignore("duplicate install"));
        assert!(matches!(decide(Some(&current), &incoming(Installed, 100)), Decision::Reinstall { .. }));
        // The same secret in the same second, but a new Forge installation: a reinstall that joins it.
        let joined = Incoming { installation_id: Some(installation("ari:1")), ..duplicate.clone() };
        assert!(matches!(decide(Some(&current), &joined), Decision::Reinstall { .. }));
        let current = run(&[incoming(Installed, 100), joined.clone()]).unwrap();
        assert_eq!(decide(Some(&current), &joined), Decision::Ignore("duplicate install"));
        assert_eq!(decide(Some(&current), &duplicate), Decision::Ignore("duplicate install"), "no id: the same");
    }

    #[test]
    fn a_replayed_install_token_is_a_duplicate_with_the_same_body_and_refused_with_another() {
        let first = Incoming { token_fingerprint: Some("t1"), ..incoming(Installed, 100) };
        let current = run(std::slice::from_ref(&first)).unwrap();
        let same = Incoming { same_secret: true, ..first.clone() };
        assert_eq!(decide(Some(&current), &same), Decision::Ignore("duplicate install"));
        let other_secret = Incoming { same_secret: false, ..first.clone() };
        assert!(matches!(decide(Some(&current), &other_secret), Decision::Reject(_)));
        let other_site = Incoming { same_secret: true, base_url: url("https://evil.atlassian.net"), ..first };
        assert!(matches!(decide(Some(&current), &other_site), Decision::Reject(_)));
    }

    #[test]
    fn a_disable_with_a_later_iat_does_not_make_a_reinstall_stale() {
        let current = run(&[incoming(Installed, 100), incoming(Disabled, 300)]).unwrap();
        assert!(matches!(decide(Some(&current), &incoming(Installed, 200)), Decision::Reinstall { .. }));
        let uninstalled = run(&[incoming(Installed, 100), incoming(Uninstalled, 300)]).unwrap();
        assert!(matches!(decide(Some(&uninstalled), &incoming(Installed, 200)), Decision::Ignore(_)));
    }

    #[test]
    fn a_new_base_url_for_the_same_client_key_is_a_rename() {
        let current = run(&[incoming(Installed, 100)]).unwrap();
        let renamed = Incoming { base_url: url("https://b.atlassian.net"), ..incoming(Installed, 200) };
        assert_eq!(
            decide(Some(&current), &renamed),
            Decision::Reinstall {
                state: InstallState::Installed,
                renamed_from: Some(BaseUrl::new("https://a.atlassian.net"))
            }
        );
    }

    #[test]
    fn enable_and_disable_never_revive_an_uninstalled_or_orphaned_installation() {
        let uninstalled = run(&[incoming(Installed, 10), incoming(Uninstalled, 20)]).unwrap();
        for e in [Enabled, Disabled] {
            assert!(matches!(decide(Some(&uninstalled), &incoming(e, 30)), Decision::Ignore(_)));
        }
        let orphan = Snapshot { orphaned: true, ..run(&[incoming(Installed, 10)]).unwrap() };
        assert!(matches!(decide(Some(&orphan), &incoming(Disabled, 30)), Decision::Ignore(_)));
    }

    /// Every order of delivery of {enabled, disabled, uninstalled} after an
    /// install ends uninstalled, whatever their iat (F-08).
    #[test]
    fn every_order_of_racing_events_ends_uninstalled() {
        let tail = [Enabled, Disabled, Uninstalled];
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let iat_sets = [[20, 30, 40], [40, 30, 20], [20, 20, 20], [30, 40, 20]];
        for order in orders {
            for iats in iat_sets {
                let mut events = vec![incoming(Installed, 10)];
                events.extend(order.iter().map(|&i| incoming(tail[i], iats[i])));
                let end = run(&events).unwrap();
                assert_eq!(end.state, InstallState::Uninstalled, "order {order:?} iats {iats:?}");
            }
        }
    }

    #[test]
    fn uninstall_of_an_unknown_tenant_or_before_the_last_install_is_ignored() {
        assert!(matches!(decide(None, &incoming(Uninstalled, 10)), Decision::Ignore(_)));
        let current = run(&[incoming(Installed, 100)]).unwrap();
        assert!(matches!(decide(Some(&current), &incoming(Uninstalled, 50)), Decision::Ignore(_)));
    }
}
