//! Group commit for visits. The visits that arrive while a batch is being
//! committed are gathered into the next batch: one statement and one
//! commit for all of them, instead of one commit each. Every request still
//! waits for the commit of its own visit, so a page is only answered once its
//! visit is durable. Under light load a batch is a single visit and nothing
//! waits for company.
//!
//! A visit is recorded once or not at all, and its request learns which:
//! it waits at most `RECORD_DEADLINE`; a batch commits only if its
//! statement finished before the earliest deadline of its visits, and is
//! rolled back otherwise. Only a batch whose COMMIT was already sent when a
//! request gave up may count a visit whose request was answered 503
//! (`visitors_visits_committed_unanswered_total` says how many did).

use std::{
    collections::{HashMap, HashSet, VecDeque},
    panic::AssertUnwindSafe,
    str::FromStr,
    sync::{Arc, PoisonError},
};

use backon::{ExponentialBuilder, Retryable};
use futures::{future::BoxFuture, FutureExt};
use prometheus::{IntCounter, IntCounterVec};
use rocket::tokio::{
    self,
    sync::{
        mpsc::{self, error::TryRecvError},
        oneshot,
    },
    task::{self, JoinSet},
    time::Instant,
};
use sqlx::{
    postgres::{PgConnectOptions, PgConnection, PgDatabaseError, PgSeverity},
    Connection, Executor,
};

use crate::{
    counting::{
        site_id::SiteId,
        store::{self, NewVisit, VisitCounts},
        visit::IncomingVisit,
        visitor_key::VisitorKey,
    },
    infra::{database::RECORD_DEADLINE, error::AppError, metrics::Metrics},
};

/// How much longer than a request PostgreSQL waits for the recorder's
/// statements: the request's own deadline passes first.
const SERVER_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// A visit with less time left than this when its batch would start is
/// refused at once: it would shorten its whole batch's deadline (the
/// earliest of its visits') and fail fresher visits with it.
const MIN_TIME_LEFT: std::time::Duration = std::time::Duration::from_secs(1);

/// Bounds one statement's size and how long it holds its row locks.
const MAX_BATCH: usize = 256;
/// Visits waiting for a batch; past this, requests wait to be queued.
const QUEUE_CAPACITY: usize = 4096;

/// Why a visit was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RecordError {
    /// A batch fails as a whole, so every visit in it shares the error.
    #[error("recording the visit failed: {0}")]
    Database(Arc<sqlx::Error>),
    /// The database did not record it within `RECORD_DEADLINE`.
    #[error("the database did not record the visit in time")]
    DeadlinePassed,
    /// The batch's COMMIT got no answer (a lost connection, or none in
    /// time): the visit may have counted.
    #[error("the database did not confirm the visit")]
    CommitUnknown,
    /// The batch failed in the recorder itself (a panic, answers that do
    /// not match its visits); nothing of it was committed.
    #[error("recording the visit failed: {0}")]
    Failed(&'static str),
    /// The server is shutting down.
    #[error("the visit recorder has stopped")]
    Stopped,
}

impl RecordError {
    /// The label of `visitors_visits_failed_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Database(_) => "database",
            Self::DeadlinePassed => "deadline",
            Self::CommitUnknown => "commit_unknown",
            Self::Failed(_) => "batch_failed",
            Self::Stopped => "stopped",
        }
    }

    pub const REASONS: [&'static str; 5] = [
        "database",
        "deadline",
        "commit_unknown",
        "batch_failed",
        "stopped",
    ];
}

pub type RecordResult = Result<VisitCounts, RecordError>;

impl From<RecordError> for AppError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::Database(error) => AppError::Database(error),
            RecordError::DeadlinePassed => {
                AppError::Unavailable("the database did not record the visit in time")
            }
            RecordError::CommitUnknown => {
                AppError::Unavailable("the database did not confirm the visit")
            }
            RecordError::Failed(_) => AppError::Unavailable("recording the visit failed"),
            RecordError::Stopped => AppError::Unavailable("the visit recorder has stopped"),
        }
    }
}

/// What the recorder reports to the metrics.
#[derive(Clone)]
pub struct RecorderMetrics {
    /// Visits recorded and answered, by kind (`human`, `bot`, `event`).
    pub recorded: IntCounterVec,
    /// Human visitors seen for the first time.
    pub new_visitors: IntCounter,
    /// Visits answered with an error, by `RecordError::reason`.
    pub failed: IntCounterVec,
    /// Visits committed after their request stopped waiting.
    pub committed_unanswered: IntCounter,
}

impl RecorderMetrics {
    pub fn register(metrics: &Metrics) -> Self {
        let recorded = metrics.counter_vec(
            "visitors_visits_recorded_total",
            "Visits recorded, by kind: human or bot (page views), event (custom events)",
            &["kind"],
        );
        let failed = metrics.counter_vec(
            "visitors_visits_failed_total",
            "Visits answered with an error (503), by reason: database, deadline (RECORD_DEADLINE \
             passed), batch_failed, stopped: not recorded; commit_unknown: the COMMIT got no \
             answer, so they may count",
            &["reason"],
        );
        for reason in RecordError::REASONS {
            failed.with_label_values(&[reason]);
        }
        Self {
            recorded,
            new_visitors: metrics.counter(
                "visitors_new_unique_visitors_total",
                "Human visitors seen for the first time",
            ),
            failed,
            committed_unanswered: metrics.counter(
                "visitors_visits_committed_unanswered_total",
                "Visits committed though not answered 200: their request stopped waiting (its \
                 deadline passed while the COMMIT was under way, or its client left), or the \
                 numbers of the page or badge that answers them could not be read",
            ),
        }
    }
}

struct Pending {
    visit: IncomingVisit,
    reply: oneshot::Sender<RecordResult>,
    /// When its request stops waiting.
    deadline: Instant,
}

pub struct VisitRecorder {
    queue: mpsc::Sender<Pending>,
    /// The task that commits batches: readiness is false once it ended.
    task: task::AbortHandle,
    metrics: RecorderMetrics,
}

/// Commits one batch of visits: the database, or in tests a writer that
/// fails one batch on purpose. It must leave nothing behind when it errs.
pub trait BatchWriter: Send + Sync + 'static {
    fn write<'a>(
        &'a self,
        visits: &'a [NewVisit<'a>],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<Vec<VisitCounts>, RecordError>>;
}

/// The recorder's own connections, open from one batch to the next: at
/// most one per batch in flight, never taken by a dashboard's reads. Not a
/// sqlx pool, which tests a connection with a round trip each time it is
/// taken and each time it is given back: two more than a batch's own three
/// (BEGIN, the statement, COMMIT). A connection that failed in any way, or
/// whose batch was given up, is closed rather than reused, and PostgreSQL
/// rolls back what it had open: it looks for a closed client every
/// `CLIENT_CHECK` while a statement runs, and ends a lock wait or a
/// statement `RECORD_DEADLINE + SERVER_GRACE` after it started in any case,
/// so that no backend stays stuck behind a stalled lock once its batch is
/// gone. Its backends are named `RECORDER_NAME` in `pg_stat_activity`.
/// Their one statement is planned once per connection, for a batch of any
/// size (`record_visits.sql` says how): planned again for each batch's own
/// arrays, it took a batch of 30 visits a third longer.
pub struct RecorderDatabase {
    options: PgConnectOptions,
    idle: std::sync::Mutex<Vec<(PgConnection, Instant)>>,
}

/// How often PostgreSQL checks, during a statement, that the recorder
/// still holds the connection.
const CLIENT_CHECK: &str = "250ms";
/// The `application_name` of the recorder's connections.
pub const RECORDER_NAME: &str = "visitors-recorder";
/// A connection idle longer than this is closed rather than reused: a
/// firewall may have dropped it without either side knowing, and its BEGIN
/// would then wait for the batch's whole deadline.
const IDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

impl RecorderDatabase {
    /// Connects to `database_url`, which the configuration checked, when
    /// the first batch needs it.
    pub fn connect_lazy(database_url: &str) -> Result<Self, sqlx::Error> {
        let limit = format!("{}ms", (RECORD_DEADLINE + SERVER_GRACE).as_millis());
        let options = PgConnectOptions::from_str(database_url)?
            .application_name(RECORDER_NAME)
            .options([
                ("lock_timeout", limit.as_str()),
                ("statement_timeout", limit.as_str()),
                ("idle_in_transaction_session_timeout", limit.as_str()),
                ("client_connection_check_interval", CLIENT_CHECK),
                ("plan_cache_mode", "force_generic_plan"),
            ]);
        Ok(Self {
            options,
            idle: std::sync::Mutex::new(Vec::with_capacity(MAX_IN_FLIGHT)),
        })
    }

    /// The connection used last, if it has not been idle too long; the
    /// older ones are closed.
    fn take_idle(&self) -> Option<PgConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|(_, since)| since.elapsed() < IDLE_LIMIT);
        idle.pop().map(|(connection, _)| connection)
    }

    fn put_idle(&self, connection: PgConnection) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((connection, Instant::now()));
    }

    /// A connection in a transaction just begun: an idle one, or a new one.
    /// An idle connection may have been closed meanwhile (PostgreSQL
    /// restarted, or ended it): its BEGIN fails, with nothing sent that
    /// could commit, and the next one is tried.
    async fn begin(&self) -> Result<PgConnection, sqlx::Error> {
        while let Some(mut connection) = self.take_idle() {
            if connection.execute("BEGIN").await.is_ok() {
                return Ok(connection);
            }
        }
        // A server restarting refuses connections for a moment: the batch
        // tries again until its deadline (which bounds the whole write).
        let connect = || PgConnection::connect_with(&self.options);
        let mut connection = connect
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(std::time::Duration::from_millis(50))
                    .with_max_delay(std::time::Duration::from_secs(1))
                    .with_jitter()
                    .without_max_times(),
            )
            .when(is_transient)
            .await?;
        connection.execute("BEGIN").await?;
        Ok(connection)
    }
}

/// A failure to connect that a moment may cure: no server listening, one
/// shutting down or starting up (SQLSTATE 57P01 to 57P03), or one whose
/// connections are all taken (53300: those of batches given up a moment
/// ago may still be closing).
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| ["57P01", "57P02", "57P03", "53300"].contains(&&*code)),
        _ => false,
    }
}

/// Whether PostgreSQL ended the session with this error (severity FATAL or
/// PANIC) rather than only failing a statement: after a COMMIT it may have
/// done so once the commit was durable.
fn ends_session(error: &dyn sqlx::error::DatabaseError) -> bool {
    error
        .try_downcast_ref::<PgDatabaseError>()
        .is_some_and(|error| matches!(error.severity(), PgSeverity::Fatal | PgSeverity::Panic))
}

impl BatchWriter for RecorderDatabase {
    fn write<'a>(
        &'a self,
        visits: &'a [NewVisit<'a>],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<Vec<VisitCounts>, RecordError>> {
        let database = |error| RecordError::Database(Arc::new(error));
        Box::pin(async move {
            // Dropped at the deadline before its COMMIT, the connection is
            // closed and the transaction rolled back: none of the batch
            // counts.
            let statement = async {
                let mut connection = self.begin().await?;
                let counts = store::record_visits(&mut connection, visits).await?;
                Ok((connection, counts))
            };
            let (mut connection, counts) = tokio::time::timeout_at(deadline, statement)
                .await
                .map_err(|_| RecordError::DeadlinePassed)?
                .map_err(database)?;
            let counts = answers_for(counts, visits.len())?;
            // Once sent, a COMMIT's outcome is waited for, as long as a
            // visit may wait: it decides whether the visits count. An
            // error PostgreSQL answers means it rolled back, unless it
            // ended the session; that, or no answer, leaves it unknown.
            match tokio::time::timeout(RECORD_DEADLINE, connection.execute("COMMIT")).await {
                Ok(Ok(_)) => {
                    self.put_idle(connection);
                    Ok(counts)
                }
                Ok(Err(sqlx::Error::Database(error))) if !ends_session(&*error) => {
                    Err(database(sqlx::Error::Database(error)))
                }
                Ok(Err(_)) | Err(_) => Err(RecordError::CommitUnknown),
            }
        })
    }
}

/// The batch's answers, one per visit in order; any other number is an
/// error that fails the batch, not an answer silently dropped.
fn answers_for(counts: Vec<VisitCounts>, visits: usize) -> Result<Vec<VisitCounts>, RecordError> {
    if counts.len() == visits {
        Ok(counts)
    } else {
        Err(RecordError::Failed(
            "the batch's answers do not match its visits",
        ))
    }
}

impl VisitRecorder {
    /// Starts the task that commits batches with `writer`; it ends with the
    /// recorder.
    pub fn start(writer: impl BatchWriter, metrics: RecorderMetrics) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE_CAPACITY);
        let task = tokio::spawn(commit_batches(
            Arc::new(writer),
            incoming,
            metrics.committed_unanswered.clone(),
        ))
        .abort_handle();
        Self {
            queue,
            task,
            metrics,
        }
    }

    /// Records the visit and returns its counts once it is committed, or
    /// an error within `RECORD_DEADLINE`.
    pub async fn record(&self, visit: IncomingVisit) -> RecordResult {
        let is_bot = visit.client.is_bot();
        let kind = match (&visit.details.event, is_bot) {
            (Some(_), _) => "event",
            (None, true) => "bot",
            (None, false) => "human",
        };
        let deadline = Instant::now() + RECORD_DEADLINE;
        let (reply, answer) = oneshot::channel();
        let recorded = tokio::time::timeout_at(deadline, async {
            self.queue
                .send(Pending {
                    visit,
                    reply,
                    deadline,
                })
                .await
                .map_err(|_| RecordError::Stopped)?;
            // A batch that panicked drops its replies.
            answer
                .await
                .unwrap_or(Err(RecordError::Failed("the batch was lost")))
        })
        .await
        .unwrap_or(Err(RecordError::DeadlinePassed));
        match &recorded {
            Ok(counts) if counts.recorded => {
                self.metrics.recorded.with_label_values(&[kind]).inc();
                if counts.is_new && !is_bot {
                    self.metrics.new_visitors.inc();
                }
            }
            Ok(_) => {}
            Err(error) => self
                .metrics
                .failed
                .with_label_values(&[error.reason()])
                .inc(),
        }
        recorded
    }

    /// Whether visits can be recorded: the task that commits them runs.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }

    /// Passes on what a request that recorded `counts` answers; an error
    /// then (the page's numbers could not be read) is a visit counted
    /// though not answered 200, which `committed_unanswered` counts.
    pub fn answer<T, E>(&self, counts: &VisitCounts, answer: Result<T, E>) -> Result<T, E> {
        if answer.is_err() && counts.recorded {
            self.metrics.committed_unanswered.inc();
        }
        answer
    }
}

/// At most this many batches in flight per replica.
const MAX_IN_FLIGHT: usize = 2;
/// While a batch commits, the next one starts early only once this many
/// visits wait that it may take; fewer wait for the commit and join them.
const EARLY_BATCH_FROM: usize = 32;

/// Gathers the waiting visits into batches and commits them. One batch is in
/// flight until `EARLY_BATCH_FROM` visits that it may take wait behind it;
/// then a second starts rather than leave the database idle on this
/// replica's behalf while the first commits. Fewer waiting visits join the
/// next batch after the commit: through nginx with three replicas, two and
/// four batches in flight at all times had been 30 to 50 % worse than one,
/// since bigger batches spread the statement's fixed cost (planning,
/// constraint checks, the commit) over more visits, and a third of the
/// connections per replica seldom puts 32 visits behind a batch. Measured
/// on 2 cores (docs/performance.md, "Batches in flight"): on a loaded
/// machine from 32 waiting beat one in flight by 17 to 24 % for new
/// visitors direct to one replica in every round, from 64 never started a
/// second batch, from 16 made smaller batches and three in flight lost; on
/// a quiet one no rule differed from another beyond the noise, in either
/// topology, and from 32 had the best mean direct in two sittings of three.
///
/// A batch in flight holds its visitors (`InFlight`): their later visits
/// wait for it to commit, since two concurrent statements of one visitor
/// may commit in either order and the answers would not follow arrival
/// order. A visit whose request stopped waiting is dropped unrecorded.
async fn commit_batches(
    writer: Arc<dyn BatchWriter>,
    mut incoming: mpsc::Receiver<Pending>,
    unanswered: IntCounter,
) {
    let mut waiting = VecDeque::new();
    let mut in_flight = InFlight::default();
    let mut open = true;
    loop {
        while open && waiting.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(pending) => waiting.push_back(pending),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        refuse_expiring(&mut waiting);
        while in_flight.may_start(&waiting) {
            let batch = next_batch(&mut waiting, |pending| in_flight.is_free(pending));
            // Empty when every visit waiting was abandoned.
            if !batch.is_empty() {
                in_flight.start(&writer, batch, &unanswered);
            }
        }
        // Nothing in flight means nothing waits either: `may_start` would
        // have started it.
        if in_flight.is_empty() && !open {
            return;
        }
        tokio::select! {
            pending = incoming.recv(), if open && waiting.len() < MAX_BATCH => match pending {
                Some(pending) => waiting.push_back(pending),
                None => open = false,
            },
            () = in_flight.finish_one(), if !in_flight.is_empty() => {}
        }
    }
}

/// Answers `DeadlinePassed` at once to the visits with less than
/// `MIN_TIME_LEFT` left. They wait in arrival order, so nearly by deadline
/// (two requests may queue in the other order than they took their
/// deadlines, by a thread's time slice): only the oldest are looked at,
/// which keeps this cheap with a long queue.
fn refuse_expiring(waiting: &mut VecDeque<Pending>) {
    let soon = Instant::now() + MIN_TIME_LEFT;
    while let Some(pending) = waiting.pop_front() {
        if pending.deadline >= soon {
            waiting.push_front(pending);
            return;
        }
        let _ = pending.reply.send(Err(RecordError::DeadlinePassed));
    }
}

/// A visitor of a site: whose visits must stay in arrival order.
type SiteVisitor = (SiteId, VisitorKey);

/// Whose visit it is, for keeping one visitor's visits in arrival order.
fn visitor_of(pending: &Pending) -> SiteVisitor {
    (pending.visit.site, pending.visit.visitor)
}

/// The batches being committed, and the visitors each holds.
#[derive(Default)]
struct InFlight {
    batches: JoinSet<()>,
    held: HashMap<task::Id, Vec<SiteVisitor>>,
    visitors: HashSet<SiteVisitor>,
}

impl InFlight {
    fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// A visit whose visitor is in a batch in flight waits for that batch.
    fn is_free(&self, pending: &Pending) -> bool {
        !self.visitors.contains(&visitor_of(pending))
    }

    fn may_start(&self, waiting: &VecDeque<Pending>) -> bool {
        match self.batches.len() {
            0 => !waiting.is_empty(),
            n if n < MAX_IN_FLIGHT && waiting.len() >= EARLY_BATCH_FROM => {
                let free = waiting
                    .iter()
                    .filter(|p| !p.reply.is_closed() && self.is_free(p));
                free.take(EARLY_BATCH_FROM).count() == EARLY_BATCH_FROM
            }
            _ => false,
        }
    }

    fn start(
        &mut self,
        writer: &Arc<dyn BatchWriter>,
        batch: Vec<Pending>,
        unanswered: &IntCounter,
    ) {
        let held: Vec<SiteVisitor> = batch
            .iter()
            .map(visitor_of)
            .filter(|visitor| self.visitors.insert(*visitor))
            .collect();
        let (writer, unanswered) = (Arc::clone(writer), unanswered.clone());
        let task = self
            .batches
            .spawn(async move { commit(&*writer, batch, &unanswered).await });
        self.held.insert(task.id(), held);
    }

    /// Waits for a batch to end, committed or not, and frees its visitors.
    async fn finish_one(&mut self) {
        let id = match self.batches.join_next_with_id().await {
            Some(Ok((id, ()))) => id,
            // `commit` catches the batch's own panics; should anything else
            // in its task panic, its replies are dropped (its requests get a
            // 503) and the recorder goes on.
            Some(Err(error)) => error.id(),
            None => return,
        };
        for visitor in self.held.remove(&id).unwrap_or_default() {
            self.visitors.remove(&visitor);
        }
    }
}

/// Takes the oldest waiting visits that `is_free`, in arrival order, up to
/// the bound; the others keep their places, and those nobody waits for any
/// more are dropped (unrecorded). A visitor's several visits go into one
/// batch, where the statement applies them one after the other (one row
/// update with `visits + k`).
fn next_batch(waiting: &mut VecDeque<Pending>, is_free: impl Fn(&Pending) -> bool) -> Vec<Pending> {
    let mut batch = Vec::with_capacity(waiting.len().min(MAX_BATCH));
    let mut kept = VecDeque::new();
    for pending in waiting.drain(..) {
        if pending.reply.is_closed() {
            continue;
        }
        if batch.len() < MAX_BATCH && is_free(&pending) {
            batch.push(pending);
        } else {
            kept.push_back(pending);
        }
    }
    *waiting = kept;
    batch
}

/// Writes the batch and answers each of its visits. A request that went
/// away meanwhile (its deadline passed, or its client left) finds its visit
/// recorded all the same once the COMMIT was sent: `unanswered` counts them.
async fn commit(writer: &dyn BatchWriter, batch: Vec<Pending>, unanswered: &IntCounter) {
    let Some(deadline) = batch.iter().map(|pending| pending.deadline).min() else {
        return;
    };
    let visits: Vec<NewVisit<'_>> = batch.iter().map(|p| p.visit.as_new_visit()).collect();
    let result = AssertUnwindSafe(async { writer.write(&visits, deadline).await })
        .catch_unwind()
        .await
        .unwrap_or(Err(RecordError::Failed("the batch panicked")))
        .and_then(|counts| answers_for(counts, visits.len()));
    drop(visits);
    match result {
        Ok(counts) => {
            for (pending, counts) in batch.into_iter().zip(counts) {
                if pending.reply.send(Ok(counts)).is_err() {
                    unanswered.inc();
                }
            }
        }
        Err(error) => {
            for pending in batch {
                let _ = pending.reply.send(Err(error.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicBool, Ordering},
        time::Duration,
    };

    use prometheus::Opts;
    use sqlx::{postgres::PgPoolOptions, PgPool};

    use super::*;
    use crate::{
        counting::user_agent::{ClientInfo, DeviceType},
        infra::database::MIGRATOR,
    };

    /// Tests that hold row locks wait longer than a request would.
    const PATIENT: Duration = Duration::from_secs(60);

    fn visit_of(visitor: [u8; 32]) -> IncomingVisit {
        IncomingVisit {
            site: SiteId::INSTANCE,
            visitor: VisitorKey::from_bytes(visitor),
            client: Arc::new(ClientInfo {
                browser: "curl".into(),
                os: "Unknown".into(),
                device: DeviceType::Other,
            }),
            country: None,
            path: "/".into(),
            referrer_host: None,
            details: Default::default(),
            request: None,
        }
    }

    fn pending_of(visitor: [u8; 32]) -> (Pending, oneshot::Receiver<RecordResult>) {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            visit: visit_of(visitor),
            reply,
            deadline: Instant::now() + PATIENT,
        };
        (pending, answer)
    }

    fn visitors(pending: &[Pending]) -> Vec<u8> {
        pending
            .iter()
            .map(|p| p.visit.visitor.as_bytes()[0])
            .collect()
    }

    /// Waiting visits, and their answers: a visit whose answer is dropped
    /// has nobody waiting for it.
    fn queue(
        visitors: impl IntoIterator<Item = u8>,
    ) -> (VecDeque<Pending>, Vec<oneshot::Receiver<RecordResult>>) {
        visitors.into_iter().map(|v| pending_of([v; 32])).unzip()
    }

    fn metrics() -> RecorderMetrics {
        RecorderMetrics {
            recorded: IntCounterVec::new(Opts::new("recorded", "recorded"), &["kind"]).unwrap(),
            new_visitors: IntCounter::new("new", "new").unwrap(),
            failed: IntCounterVec::new(Opts::new("failed", "failed"), &["reason"]).unwrap(),
            committed_unanswered: IntCounter::new("unanswered", "unanswered").unwrap(),
        }
    }

    #[test]
    fn a_batch_takes_a_visitors_repeated_visits_in_arrival_order() {
        let (mut waiting, _answers) = queue([1, 2, 1, 3, 1, 2]);
        assert_eq!(
            visitors(&next_batch(&mut waiting, |_| true)),
            [1, 2, 1, 3, 1, 2]
        );
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_batch_is_bounded() {
        let (mut waiting, _answers) = queue((0..=255).chain(0..=255));
        assert_eq!(next_batch(&mut waiting, |_| true).len(), MAX_BATCH);
        assert_eq!(next_batch(&mut waiting, |_| true).len(), MAX_BATCH);
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_batch_leaves_the_visits_of_visitors_in_flight_in_their_places() {
        let (mut waiting, _answers) = queue([1, 2, 1, 3, 2, 4]);
        let batch = next_batch(&mut waiting, |p| p.visit.visitor.as_bytes()[0] != 2);
        assert_eq!(visitors(&batch), [1, 1, 3, 4]);
        assert_eq!(visitors(&waiting.into_iter().collect::<Vec<_>>()), [2, 2]);
    }

    #[rocket::async_test]
    async fn another_batch_starts_only_when_enough_free_visits_wait() {
        let mut in_flight = InFlight::default();
        assert!(!in_flight.may_start(&VecDeque::new()));
        let (one, _answer) = queue([1]);
        assert!(in_flight.may_start(&one));
        in_flight
            .visitors
            .insert((SiteId::INSTANCE, VisitorKey::from_bytes([0; 32])));
        in_flight.batches.spawn(std::future::pending());
        assert!(!in_flight.may_start(&one));
        let enough = EARLY_BATCH_FROM as u8;
        let (free, _answers) = queue(1..=enough);
        assert!(in_flight.may_start(&free));
        // Visits of the visitor in flight do not count, nor visits nobody
        // waits for any more.
        let (held, _answers) = queue((1..enough).chain([0]));
        assert!(!in_flight.may_start(&held));
        let (abandoned, answers) = queue(1..=enough);
        drop(answers);
        assert!(!in_flight.may_start(&abandoned));
        in_flight.batches.spawn(std::future::pending());
        assert!(!in_flight.may_start(&free));
    }

    /// A database with the schema on the tests' server; dropped by `drop`.
    struct TestDatabase {
        pool: PgPool,
        url: String,
        server: String,
        name: String,
    }

    impl TestDatabase {
        async fn create() -> Self {
            let server = std::env::var("DATABASE_URL").expect(
                "DATABASE_URL must point at a PostgreSQL server: run the tests with `make test`",
            );
            let name = format!("visitors_recorder_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::connect(&server).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let mut url = url::Url::parse(&server).unwrap();
            url.set_path(&name);
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .connect(url.as_str())
                .await
                .unwrap();
            MIGRATOR.run(&pool).await.unwrap();
            Self {
                pool,
                url: url.to_string(),
                server,
                name,
            }
        }

        fn writer(&self) -> RecorderDatabase {
            RecorderDatabase::connect_lazy(&self.url).unwrap()
        }

        async fn visits_of(&self, visitor: [u8; 32]) -> Option<i64> {
            sqlx::query_scalar("SELECT visits FROM visitors WHERE visitor_key = $1")
                .bind(&visitor[..])
                .fetch_optional(&self.pool)
                .await
                .unwrap()
        }

        async fn drop(self) {
            self.pool.close().await;
            let mut admin = PgConnection::connect(&self.server).await.unwrap();
            sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }

    /// Visitor X's row is locked by the test, so the first batch, which
    /// holds X and the first half of A's visits, stalls on it (the statement
    /// locks visitor rows in key order, X's first). The second batch starts
    /// meanwhile and commits. Had it taken A's later visits, they would be
    /// counted before the earlier ones.
    #[rocket::async_test]
    async fn batches_in_flight_keep_a_visitors_visits_in_arrival_order() {
        let db = TestDatabase::create().await;
        let pool = db.pool.clone();
        let (x, a) = ([0; 32], [1; 32]);
        let other = |i: usize| {
            let mut key = [0x80; 32];
            key[..8].copy_from_slice(&(i as u64 | 1 << 63).to_be_bytes());
            key
        };
        let first = VisitRecorder::start(db.writer(), metrics());
        assert_eq!(first.record(visit_of(x)).await.unwrap().your_visits, 1);
        let mut lock = pool.begin().await.unwrap();
        sqlx::query("SELECT 1 FROM visitors WHERE visitor_key = $1 FOR UPDATE")
            .bind(&x[..])
            .execute(&mut *lock)
            .await
            .unwrap();

        // In arrival order: X, then A and another visitor in turn.
        let (queue, incoming) = mpsc::channel(QUEUE_CAPACITY);
        let mut answers = Vec::new();
        for key in std::iter::once(x).chain((0..MAX_BATCH).flat_map(|i| [a, other(i)])) {
            let (pending, answer) = pending_of(key);
            queue
                .try_send(pending)
                .unwrap_or_else(|_| panic!("room in the queue"));
            answers.push((key, answer));
        }
        drop(queue);
        // The second batch needs enough of the others, and room to start.
        const { assert!(EARLY_BATCH_FROM <= MAX_BATCH / 2 && MAX_IN_FLIGHT >= 2) };
        let recorder = tokio::spawn(commit_batches(
            Arc::new(db.writer()),
            incoming,
            metrics().committed_unanswered,
        ));

        // The first batch takes X and the next MAX_BATCH - 1 visits, half of
        // them A's; this other visitor is in the second, which commits
        // while the first waits for X.
        let second = answers
            .iter()
            .position(|(key, _)| *key == other(MAX_BATCH / 2))
            .unwrap();
        let (_, answer) = answers.remove(second);
        let counts = tokio::time::timeout(PATIENT, answer)
            .await
            .expect("the second batch commits while the first waits")
            .unwrap()
            .unwrap();
        assert_eq!(counts.your_visits, 1);
        lock.commit().await.unwrap();

        let mut seen_of_a = Vec::new();
        for (key, answer) in answers {
            let counts = answer.await.unwrap().unwrap();
            match key {
                k if k == x => assert_eq!(counts.your_visits, 2),
                k if k == a => seen_of_a.push(counts.your_visits),
                _ => assert_eq!(counts.your_visits, 1),
            }
        }
        assert_eq!(seen_of_a, (1..=MAX_BATCH as i64).collect::<Vec<_>>());
        recorder.await.unwrap();
        let (events, unique): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM visit_events), (SELECT count(*) FROM visitors)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            (events, unique),
            (2 + 2 * MAX_BATCH as i64, 2 + MAX_BATCH as i64)
        );
        drop(first);
        db.drop().await;
    }

    /// The database's writer, but the first batch it is given panics.
    struct PanicsOnce {
        writer: RecorderDatabase,
        panicked: AtomicBool,
    }

    impl BatchWriter for PanicsOnce {
        fn write<'a>(
            &'a self,
            visits: &'a [NewVisit<'a>],
            deadline: Instant,
        ) -> BoxFuture<'a, Result<Vec<VisitCounts>, RecordError>> {
            if !self.panicked.swap(true, Ordering::SeqCst) {
                panic!("a failure injected into the first batch");
            }
            self.writer.write(visits, deadline)
        }
    }

    #[rocket::async_test]
    async fn a_batch_that_panics_fails_its_visits_and_the_recorder_goes_on() {
        let db = TestDatabase::create().await;
        let metrics = metrics();
        let recorder = VisitRecorder::start(
            PanicsOnce {
                writer: db.writer(),
                panicked: AtomicBool::new(false),
            },
            metrics.clone(),
        );
        let failed = recorder.record(visit_of([1; 32])).await.unwrap_err();
        assert!(
            matches!(failed, RecordError::Failed("the batch panicked")),
            "{failed:?}: the batch's own failure, not a recorder that stopped"
        );
        assert!(recorder.is_running(), "readiness stays true");
        let counts = recorder.record(visit_of([2; 32])).await.unwrap();
        assert_eq!((counts.your_visits, counts.total_visits), (1, 1));
        assert_eq!(
            db.visits_of([1; 32]).await,
            None,
            "nothing of it was stored"
        );
        assert_eq!(metrics.failed.with_label_values(&["batch_failed"]).get(), 1);
        drop(recorder);
        db.drop().await;
    }

    /// A writer that answers one visit fewer than it was given.
    struct AnswersOneFewer;

    impl BatchWriter for AnswersOneFewer {
        fn write<'a>(
            &'a self,
            visits: &'a [NewVisit<'a>],
            _deadline: Instant,
        ) -> BoxFuture<'a, Result<Vec<VisitCounts>, RecordError>> {
            let counts = VisitCounts {
                your_visits: 1,
                is_new: true,
                recorded: true,
                unique_visitors: 1,
                total_visits: 1,
            };
            Box::pin(async move { Ok(vec![counts; visits.len() - 1]) })
        }
    }

    #[rocket::async_test]
    async fn a_batch_answered_short_fails_every_visit_of_it() {
        let metrics = metrics();
        let recorder = VisitRecorder::start(AnswersOneFewer, metrics.clone());
        let (first, second) = tokio::join!(
            recorder.record(visit_of([1; 32])),
            recorder.record(visit_of([2; 32]))
        );
        for answer in [first, second] {
            assert!(
                matches!(answer, Err(RecordError::Failed(_))),
                "{answer:?}: no answer dropped silently, none taken for another visit's"
            );
        }
        assert_eq!(metrics.failed.with_label_values(&["batch_failed"]).get(), 2);
    }

    #[rocket::async_test]
    async fn a_recorder_whose_task_ended_is_not_running_and_refuses_visits() {
        let recorder = VisitRecorder::start(AnswersOneFewer, metrics());
        assert!(recorder.is_running());
        recorder.task.abort();
        tokio::time::timeout(PATIENT, async {
            while recorder.is_running() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("readiness says it cannot record");
        let refused = recorder.record(visit_of([1; 32])).await.unwrap_err();
        assert!(matches!(refused, RecordError::Stopped), "{refused:?}");
    }

    #[test]
    fn answers_that_do_not_match_the_batch_fail_it() {
        let counts = VisitCounts {
            your_visits: 1,
            is_new: true,
            recorded: true,
            unique_visitors: 1,
            total_visits: 1,
        };
        assert!(answers_for(vec![counts; 2], 2).is_ok());
        for (answers, visits) in [(1, 2), (3, 2), (0, 1)] {
            assert!(matches!(
                answers_for(vec![counts; answers], visits),
                Err(RecordError::Failed(_))
            ));
        }
    }

    /// A visit whose statement cannot finish by its deadline (its row is
    /// locked) is answered `DeadlinePassed` in time and is not committed
    /// once the lock goes.
    #[rocket::async_test]
    async fn a_visit_past_its_deadline_is_refused_and_not_recorded() {
        let db = TestDatabase::create().await;
        let x = [7; 32];
        let recorder = VisitRecorder::start(db.writer(), metrics());
        recorder.record(visit_of(x)).await.unwrap();
        let mut lock = db.pool.begin().await.unwrap();
        sqlx::query("SELECT 1 FROM visitors WHERE visitor_key = $1 FOR UPDATE")
            .bind(&x[..])
            .execute(&mut *lock)
            .await
            .unwrap();
        let started = Instant::now();
        let refused = recorder.record(visit_of(x)).await.unwrap_err();
        assert!(
            matches!(refused, RecordError::DeadlinePassed),
            "{refused:?}"
        );
        assert!(started.elapsed() < RECORD_DEADLINE + Duration::from_secs(1));
        lock.commit().await.unwrap();
        // The next visit of X waits for the stalled statement's rollback.
        assert_eq!(recorder.record(visit_of(x)).await.unwrap().your_visits, 2);
        assert_eq!(db.visits_of(x).await, Some(2));
        drop(recorder);
        db.drop().await;
    }

    /// A connection PostgreSQL closed between two batches (a restart, an
    /// administrator) fails no batch: the next one's BEGIN finds it closed
    /// and a new connection takes its place.
    #[rocket::async_test]
    async fn a_connection_closed_between_batches_is_replaced() {
        let db = TestDatabase::create().await;
        let x = [9; 32];
        let recorder = VisitRecorder::start(db.writer(), metrics());
        recorder.record(visit_of(x)).await.unwrap();
        let mut admin = PgConnection::connect(&db.url).await.unwrap();
        let closed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1",
        )
        .bind(RECORDER_NAME)
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert_eq!(closed, [true], "the recorder kept its one connection open");
        assert_eq!(recorder.record(visit_of(x)).await.unwrap().your_visits, 2);
        assert_eq!(db.visits_of(x).await, Some(2));
        admin.close().await.unwrap();
        drop(recorder);
        db.drop().await;
    }

    /// A visit whose request went away before its batch started is dropped.
    #[rocket::async_test]
    async fn a_visit_nobody_waits_for_is_not_recorded() {
        let db = TestDatabase::create().await;
        let (queue, incoming) = mpsc::channel(QUEUE_CAPACITY);
        let (abandoned, answer) = pending_of([3; 32]);
        drop(answer);
        let (kept, answer) = pending_of([4; 32]);
        queue.try_send(abandoned).unwrap_or_else(|_| panic!("room"));
        queue.try_send(kept).unwrap_or_else(|_| panic!("room"));
        drop(queue);
        commit_batches(
            Arc::new(db.writer()),
            incoming,
            metrics().committed_unanswered,
        )
        .await;
        assert_eq!(answer.await.unwrap().unwrap().your_visits, 1);
        assert_eq!(db.visits_of([3; 32]).await, None);
        assert_eq!(db.visits_of([4; 32]).await, Some(1));
        db.drop().await;
    }
}
