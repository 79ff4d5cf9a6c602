//! Group commit for visits. The visits that arrive while a batch is being
//! committed are gathered into the next batch: one statement and one
//! commit for all of them, instead of one commit each. Every request still
//! waits for the commit of its own visit, so a page is only answered once its
//! visit is durable. Under light load a batch is a single visit and nothing
//! waits for company.

use std::{
    collections::{HashSet, VecDeque},
    sync::Arc,
};

use rocket::tokio::{
    self,
    sync::{
        mpsc::{self, error::TryRecvError},
        oneshot,
    },
    task::JoinSet,
};
use sqlx::PgPool;

use crate::{
    counting::{
        site_id::SiteId,
        store::{self, NewVisit, VisitCounts},
        visit::IncomingVisit,
        visitor_key::VisitorKey,
    },
    infra::error::AppError,
};

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
    /// The server is shutting down.
    #[error("the visit recorder has stopped")]
    Stopped,
}

pub type RecordResult = Result<VisitCounts, RecordError>;

impl From<RecordError> for AppError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::Database(error) => AppError::Database(error),
            RecordError::Stopped => AppError::Unavailable("the visit recorder has stopped"),
        }
    }
}

struct Pending {
    visit: IncomingVisit,
    reply: oneshot::Sender<RecordResult>,
}

pub struct VisitRecorder {
    queue: mpsc::Sender<Pending>,
}

impl VisitRecorder {
    /// Starts the task that commits batches on `pool`; it ends with the
    /// recorder.
    pub fn start(pool: PgPool) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(commit_batches(pool, incoming));
        Self { queue }
    }

    /// Records the visit and returns its counts once it is committed.
    pub async fn record(&self, visit: IncomingVisit) -> RecordResult {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { visit, reply })
            .await
            .map_err(|_| RecordError::Stopped)?;
        answer.await.map_err(|_| RecordError::Stopped)?
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
/// order.
async fn commit_batches(pool: PgPool, mut incoming: mpsc::Receiver<Pending>) {
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
        while in_flight.may_start(&waiting) {
            let batch = next_batch(&mut waiting, |pending| in_flight.is_free(pending));
            in_flight.start(&pool, batch);
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

/// A visitor of a site: whose visits must stay in arrival order.
type SiteVisitor = (SiteId, VisitorKey);

/// Whose visit it is, for keeping one visitor's visits in arrival order.
fn visitor_of(pending: &Pending) -> SiteVisitor {
    (pending.visit.site, pending.visit.visitor)
}

/// The batches being committed, and the visitors they hold.
#[derive(Default)]
struct InFlight {
    batches: JoinSet<Vec<SiteVisitor>>,
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
                waiting.iter().filter(|p| self.is_free(p)).count() >= EARLY_BATCH_FROM
            }
            _ => false,
        }
    }

    fn start(&mut self, pool: &PgPool, batch: Vec<Pending>) {
        let held: Vec<SiteVisitor> = batch
            .iter()
            .map(visitor_of)
            .filter(|visitor| self.visitors.insert(*visitor))
            .collect();
        let pool = pool.clone();
        self.batches.spawn(async move {
            commit(&pool, batch).await;
            held
        });
    }

    /// Waits for a batch to be committed and frees its visitors.
    async fn finish_one(&mut self) {
        match self.batches.join_next().await {
            Some(Ok(held)) => {
                for visitor in held {
                    self.visitors.remove(&visitor);
                }
            }
            // A batch that panicked stops the recorder, as it did when the
            // recorder committed batches itself.
            Some(Err(error)) => std::panic::resume_unwind(error.into_panic()),
            None => {}
        }
    }
}

/// Takes the oldest waiting visits that `is_free`, in arrival order, up to
/// the bound; the others keep their places. A visitor's several visits go
/// into one batch, where the statement applies them one after the other
/// (one row update with `visits + k`).
fn next_batch(waiting: &mut VecDeque<Pending>, is_free: impl Fn(&Pending) -> bool) -> Vec<Pending> {
    let mut batch = Vec::with_capacity(waiting.len().min(MAX_BATCH));
    let mut kept = VecDeque::new();
    for pending in waiting.drain(..) {
        if batch.len() < MAX_BATCH && is_free(&pending) {
            batch.push(pending);
        } else {
            kept.push_back(pending);
        }
    }
    *waiting = kept;
    batch
}

async fn commit(pool: &PgPool, batch: Vec<Pending>) {
    let visits: Vec<NewVisit<'_>> = batch.iter().map(|p| p.visit.as_new_visit()).collect();
    let result = store::record_visits(pool, &visits).await;
    drop(visits);
    // A request that went away meanwhile drops its receiver; its visit is
    // recorded all the same.
    match result {
        Ok(counts) => {
            for (pending, counts) in batch.into_iter().zip(counts) {
                let _ = pending.reply.send(Ok(counts));
            }
        }
        Err(error) => {
            let error = RecordError::Database(Arc::new(error));
            for pending in batch {
                let _ = pending.reply.send(Err(error.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::{postgres::PgPoolOptions, Connection, PgConnection};

    use super::*;
    use crate::{
        counting::user_agent::{ClientInfo, DeviceType},
        infra::database::MIGRATOR,
    };

    fn pending_of(visitor: [u8; 32]) -> (Pending, oneshot::Receiver<RecordResult>) {
        let (reply, answer) = oneshot::channel();
        let visit = IncomingVisit {
            site: SiteId::INSTANCE,
            visitor: VisitorKey::from_bytes(visitor),
            client: Arc::new(ClientInfo {
                browser: "curl".into(),
                os: "Unknown".into(),
                device: DeviceType::Other,
            }),
            path: "/".into(),
            referrer_host: None,
        };
        (Pending { visit, reply }, answer)
    }

    fn pending(visitor: u8) -> Pending {
        pending_of([visitor; 32]).0
    }

    fn visitors(pending: &[Pending]) -> Vec<u8> {
        pending
            .iter()
            .map(|p| p.visit.visitor.as_bytes()[0])
            .collect()
    }

    fn queue(visitors: impl IntoIterator<Item = u8>) -> VecDeque<Pending> {
        visitors.into_iter().map(pending).collect()
    }

    #[test]
    fn a_batch_takes_a_visitors_repeated_visits_in_arrival_order() {
        let mut waiting = queue([1, 2, 1, 3, 1, 2]);
        assert_eq!(
            visitors(&next_batch(&mut waiting, |_| true)),
            [1, 2, 1, 3, 1, 2]
        );
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_batch_is_bounded() {
        let mut waiting = queue((0..=255).chain(0..=255));
        assert_eq!(next_batch(&mut waiting, |_| true).len(), MAX_BATCH);
        assert_eq!(next_batch(&mut waiting, |_| true).len(), MAX_BATCH);
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_batch_leaves_the_visits_of_visitors_in_flight_in_their_places() {
        let mut waiting = queue([1, 2, 1, 3, 2, 4]);
        let batch = next_batch(&mut waiting, |p| p.visit.visitor.as_bytes()[0] != 2);
        assert_eq!(visitors(&batch), [1, 1, 3, 4]);
        assert_eq!(visitors(&waiting.into_iter().collect::<Vec<_>>()), [2, 2]);
    }

    #[rocket::async_test]
    async fn another_batch_starts_only_when_enough_free_visits_wait() {
        let mut in_flight = InFlight::default();
        assert!(!in_flight.may_start(&VecDeque::new()));
        assert!(in_flight.may_start(&queue([1])));
        in_flight
            .visitors
            .insert((SiteId::INSTANCE, VisitorKey::from_bytes([0; 32])));
        in_flight.batches.spawn(std::future::pending());
        assert!(!in_flight.may_start(&queue([1])));
        let enough = EARLY_BATCH_FROM as u8;
        assert!(in_flight.may_start(&queue(1..=enough)));
        // Visits of the visitor in flight do not count.
        assert!(!in_flight.may_start(&queue((1..enough).chain([0]))));
        in_flight.batches.spawn(std::future::pending());
        assert!(!in_flight.may_start(&queue(1..=enough)));
    }

    /// A fresh database with the schema on the tests' server, and its name.
    async fn fresh_database() -> (PgPool, String, String) {
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
        (pool, server, name)
    }

    /// Visitor X's row is locked by the test, so the first batch, which
    /// holds X and the first half of A's visits, stalls on it (the statement
    /// locks visitor rows in key order, X's first). The second batch starts
    /// meanwhile and commits. Had it taken A's later visits, they would be
    /// counted before the earlier ones.
    #[rocket::async_test]
    async fn batches_in_flight_keep_a_visitors_visits_in_arrival_order() {
        let (pool, server, name) = fresh_database().await;
        let (x, a) = ([0; 32], [1; 32]);
        let other = |i: usize| {
            let mut key = [0x80; 32];
            key[..8].copy_from_slice(&(i as u64 | 1 << 63).to_be_bytes());
            key
        };
        let first = VisitRecorder::start(pool.clone());
        assert_eq!(
            first
                .record(pending_of(x).0.visit)
                .await
                .unwrap()
                .your_visits,
            1
        );
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
        let recorder = tokio::spawn(commit_batches(pool.clone(), incoming));

        // The first batch takes X and the next MAX_BATCH - 1 visits, half of
        // them A's; this other visitor is in the second, which commits
        // while the first waits for X.
        let second = answers
            .iter()
            .position(|(key, _)| *key == other(MAX_BATCH / 2))
            .unwrap();
        let (_, answer) = answers.remove(second);
        let counts = tokio::time::timeout(Duration::from_secs(60), answer)
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

        drop((first, pool));
        let mut admin = PgConnection::connect(&server).await.unwrap();
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}
