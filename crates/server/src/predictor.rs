//! Live failure prediction: the model (loaded, or trained from the simulator at start-up), the
//! scoring of every pod and node from the store each interval (results kept for the API and
//! written back as series that rules and dashboards use), and the prediction service behind
//! `/api/v1/predictions`, `/api/v1/predict` and `/api/v1/simulate/{count}`.

mod default_model;
mod live;
mod request;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use kubepulse_api::predict::{
    ObjectPrediction, PredictRequest, PredictionService, ServiceError, Subject,
};
use kubepulse_intel::model::FailureModel;
use kubepulse_intel::predict::predict;
use kubepulse_intel::recommend;
use kubepulse_model::Clock;
use kubepulse_query::Engine;
use kubepulse_query::features::live::Tracker;
use kubepulse_query::features::{FeatureRow, ObjectKind};

pub use default_model::load_or_train;
pub use live::Scoring;

/// Shared prediction state.
pub struct Predictor {
    model: RwLock<Option<Arc<FailureModel>>>,
    latest: RwLock<(i64, Arc<Vec<ObjectPrediction>>)>,
    /// Objects alarming at the last scoring (alarms hold until their score clears).
    alarming: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Pods' and nodes' signal windows, kept between scorings.
    trackers: std::sync::Mutex<Option<[Tracker; 2]>>,
    /// The label sets of the series written at the last scoring: those not written again (an
    /// object gone, a failure type no longer the likeliest) are marked stale.
    written: std::sync::Mutex<live::Written>,
    engine: Engine,
    clock: Arc<dyn Clock>,
    cluster: String,
    max_simulate: usize,
}

impl Predictor {
    /// A predictor without a model yet.
    pub fn new(
        engine: Engine,
        clock: Arc<dyn Clock>,
        cluster: String,
        max_simulate: usize,
    ) -> Self {
        Self {
            model: RwLock::new(None),
            latest: RwLock::new((0, Arc::new(Vec::new()))),
            alarming: std::sync::Mutex::new(std::collections::HashSet::new()),
            trackers: std::sync::Mutex::new(None),
            written: std::sync::Mutex::new(live::Written::default()),
            engine,
            clock,
            cluster,
            max_simulate,
        }
    }

    /// Sets the model.
    pub fn set_model(&self, m: FailureModel) {
        if let Ok(mut g) = self.model.write() {
            *g = Some(Arc::new(m));
        }
    }

    /// The model, once there is one.
    pub fn model(&self) -> Option<Arc<FailureModel>> {
        self.model.read().ok().and_then(|g| g.clone())
    }

    fn model_or_unavailable(&self) -> Result<Arc<FailureModel>, ServiceError> {
        self.model().ok_or_else(|| {
            ServiceError::Unavailable("the failure model is still being trained".into())
        })
    }
}

/// Predictions for feature rows, riskiest first.
pub fn score_rows(
    model: &FailureModel,
    rows: &[FeatureRow],
    cluster: &str,
) -> Vec<ObjectPrediction> {
    let mut out: Vec<ObjectPrediction> = rows
        .iter()
        .map(|r| {
            let (km, kind) = match r.kind {
                ObjectKind::Pod => (&model.pod, "pod"),
                ObjectKind::Node => (&model.node, "node"),
            };
            let subject = recommend::Subject {
                namespace: r.namespace.clone(),
                name: r.name.clone(),
            };
            ObjectPrediction {
                t: r.t,
                cluster_id: cluster.to_string(),
                subject: Subject {
                    kind: kind.into(),
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                },
                prediction: predict(km, &subject, &r.values),
                metrics: last_values(&km.features, &r.values),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.prediction
            .alarm_score
            .total_cmp(&a.prediction.alarm_score)
    });
    out
}

/// The newest value of each signal, by signal name.
fn last_values(names: &[String], values: &[f64]) -> BTreeMap<String, f64> {
    names
        .iter()
        .zip(values)
        .filter_map(|(n, v)| {
            let signal = n.strip_suffix(".last")?;
            v.is_finite().then(|| (signal.to_string(), *v))
        })
        .collect()
}

impl PredictionService for Predictor {
    fn ranked(&self) -> Result<(i64, Arc<Vec<ObjectPrediction>>), ServiceError> {
        self.model_or_unavailable()?;
        let g = self
            .latest
            .read()
            .map_err(|_| ServiceError::Internal("prediction state poisoned".into()))?;
        Ok((g.0, g.1.clone()))
    }

    fn predict(&self, req: PredictRequest) -> Result<ObjectPrediction, ServiceError> {
        let model = self.model_or_unavailable()?;
        if req.metrics.is_none() && req.window.is_none() {
            let seed = self.clock.now_ms().unsigned_abs();
            return request::simulated(&self.engine, &model, seed, 1, &self.cluster)?
                .into_iter()
                .next()
                .ok_or_else(|| ServiceError::Internal("the simulated cluster was empty".into()));
        }
        let row = request::row(&model, &req, self.clock.now_ms())?;
        let cluster = req
            .cluster_id
            .clone()
            .unwrap_or_else(|| self.cluster.clone());
        score_rows(&model, &[row], &cluster)
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Internal("nothing was scored".into()))
    }

    fn simulate(&self, count: usize) -> Result<Vec<ObjectPrediction>, ServiceError> {
        let model = self.model_or_unavailable()?;
        let seed = self.clock.now_ms().unsigned_abs();
        request::simulated(&self.engine, &model, seed, count, &self.cluster)
    }

    fn max_simulate(&self) -> usize {
        self.max_simulate
    }
}
