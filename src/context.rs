//! What every platform command starts from: the global flags, the profile
//! they name, and the environment variables that override it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use qmarket_client::profile::{Profile, ProfileStore, DEFAULT_PROFILE};
use qmarket_client::{collect, Client, ClientCredentials};
use qmarket_core::secret::Secret;

use crate::exit::usage;

/// The platform's URL, over the profile's.
pub const URL_ENV: &str = "QMARKET_URL";
/// The personal access token, over the profile's.
pub const TOKEN_ENV: &str = "QMARKET_TOKEN";
/// The profile, when `--profile` is not given.
pub const PROFILE_ENV: &str = "QMARKET_PROFILE";
/// Where the profiles file is, over the user's config directory.
pub const CONFIG_DIR_ENV: &str = "QMARKET_CONFIG_DIR";
/// An application's consumer key, over the profile's stored applications.
pub const CONSUMER_KEY_ENV: &str = "QMARKET_CONSUMER_KEY";
/// That application's consumer secret.
pub const CONSUMER_SECRET_ENV: &str = "QMARKET_CONSUMER_SECRET";

/// The flags every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The profile to use (see `qmarket login`) [default: default]
    #[arg(long, global = true, env = PROFILE_ENV, value_name = "NAME")]
    pub profile: Option<String>,
    /// Print JSON (the platform's records as they are) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The global flags and what they lead to.
#[derive(Debug, Clone)]
pub struct Context {
    /// The profile's name.
    pub profile: String,
    /// Whether to print JSON.
    pub json: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Context {
    /// The context of `args`.
    pub fn new(args: &GlobalArgs) -> Context {
        Context {
            profile: args
                .profile
                .clone()
                .unwrap_or_else(|| DEFAULT_PROFILE.to_string()),
            json: args.json,
        }
    }

    /// The folder of the profiles file.
    pub fn config_dir(&self) -> anyhow::Result<PathBuf> {
        env(CONFIG_DIR_ENV)
            .map(PathBuf::from)
            .or_else(ProfileStore::default_dir)
            .ok_or_else(|| {
                usage(format!(
                    "this system has no config directory: set {CONFIG_DIR_ENV}"
                ))
            })
    }

    /// The profiles file.
    pub fn store(&self) -> anyhow::Result<ProfileStore> {
        Ok(ProfileStore::open(&self.config_dir()?)?)
    }

    /// The profile, as stored (empty when there is none).
    pub fn stored_profile(&self) -> anyhow::Result<Profile> {
        Ok(self
            .store()?
            .get(&self.profile)
            .cloned()
            .unwrap_or_default())
    }

    /// A client of the platform: URL and token from the environment
    /// (`QMARKET_URL`, `QMARKET_TOKEN`) over those of the profile.
    pub fn client(&self) -> anyhow::Result<Client> {
        let profile = self.stored_profile()?;
        let url = env(URL_ENV).or(profile.url).ok_or_else(|| {
            usage(format!(
                "no platform to talk to: run `qmarket login --url URL --token TOKEN` \
                 (profile `{}`), or set {URL_ENV} and {TOKEN_ENV}",
                self.profile
            ))
        })?;
        let token = env(TOKEN_ENV).map(Secret::new).or(profile.token);
        if token.is_none() {
            return Err(usage(format!(
                "no personal access token for {url}: run `qmarket login --url {url} --token TOKEN` \
                 (profile `{}`), or set {TOKEN_ENV}",
                self.profile
            )));
        }
        Ok(Client::new(&url, token)?)
    }

    /// The client credentials of an application: those in
    /// `QMARKET_CONSUMER_KEY` and `QMARKET_CONSUMER_SECRET`, else those of
    /// `application` stored in the profile, else of the profile's only
    /// stored application. Answers the application's id when known.
    pub fn credentials(
        &self,
        application: Option<&str>,
    ) -> anyhow::Result<(Option<String>, ClientCredentials)> {
        if let (Some(key), Some(secret)) = (env(CONSUMER_KEY_ENV), env(CONSUMER_SECRET_ENV)) {
            let credentials = ClientCredentials {
                consumer_key: key,
                consumer_secret: Secret::new(secret),
            };
            return Ok((application.map(str::to_string), credentials));
        }
        let profile = self.stored_profile()?;
        let stored = &profile.applications;
        let how = format!(
            "an application's credentials are kept when it is created with \
             `qmarket applications create` (profile `{}`); or set {CONSUMER_KEY_ENV} and \
             {CONSUMER_SECRET_ENV}",
            self.profile
        );
        match application {
            Some(id) => match stored.get(id) {
                Some(app) => Ok((Some(id.to_string()), app.credentials.clone())),
                None => Err(usage(format!("no credentials of {id} here: {how}"))),
            },
            None => match stored.len() {
                1 => {
                    let (id, app) = stored.iter().next().context("one application")?;
                    Ok((Some(id.clone()), app.credentials.clone()))
                }
                0 => Err(usage(format!("no application to call with: {how}"))),
                _ => Err(usage(format!(
                    "this profile keeps several applications ({}): choose one with --application",
                    stored.keys().cloned().collect::<Vec<_>>().join(", ")
                ))),
            },
        }
    }
}

impl Context {
    /// The credentials to call `service` with: those of `application`, or
    /// of the only application the profile keeps, or of the only one it
    /// keeps that is subscribed to `service`.
    pub fn credentials_for_service(
        &self,
        client: &Client,
        service: &str,
        application: Option<&str>,
    ) -> anyhow::Result<ClientCredentials> {
        if application.is_some() {
            return Ok(self.credentials(application)?.1);
        }
        let kept = self.stored_profile()?.applications;
        match self.credentials(None) {
            Ok((_, credentials)) => return Ok(credentials),
            Err(e) if kept.len() <= 1 => return Err(e),
            Err(_) => {}
        }
        let mut subscribed = Vec::new();
        for id in kept.keys() {
            let subscriptions = collect(None, |page| client.subscriptions(id, page))?;
            if subscriptions.items.iter().any(|s| s.service_id == service) {
                subscribed.push(id.clone());
            }
        }
        match subscribed.as_slice() {
            [only] => Ok(self.credentials(Some(only))?.1),
            [] => Err(usage(format!(
                "none of the applications this profile keeps is subscribed to {service}: \
                 `qmarket subscribe --application app_… --service {service}`"
            ))),
            several => Err(usage(format!(
                "several applications are subscribed to {service} ({}): choose one with --application",
                several.join(", ")
            ))),
        }
    }
}

/// How many records a listing shows.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Show at most this many.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// Show all of them (every page).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

impl ListArgs {
    /// The most to gather (`None`: all).
    pub fn max(&self) -> Option<usize> {
        (!self.all).then_some(self.limit)
    }
}
