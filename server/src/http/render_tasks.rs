//! The executor Leptos spawns its tasks on. A page's resources each spawn a
//! task (it drives the resource's first load and any reload) although the
//! server already holds most of their data; on Tokio each spawn wakes another
//! worker thread, about twenty cross-thread wake-ups a page. Tasks spawned
//! while a page renders instead run on the page's own task, polled beside the
//! render; any other spawn goes to Tokio as before.

use std::{
    cell::RefCell,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
use futures::{StreamExt, stream::FuturesUnordered};

/// Rounds of render-then-tasks one poll runs before it yields.
const MAX_ROUNDS: usize = 64;
/// Task polls one round makes at most.
const MAX_TASK_POLLS: usize = 1024;

thread_local! {
    /// The tasks spawned on this thread since the render being polled began its poll.
    static SPAWNED: RefCell<Option<Vec<PinnedFuture<()>>>> = const { RefCell::new(None) };
}

/// Makes Leptos spawn on [`RenderTasks`]. Set once per process; a second
/// server in the same process finds it set.
pub(crate) fn init() {
    let _ = Executor::init_custom_executor(RenderTasks);
}

struct RenderTasks;

impl CustomExecutor for RenderTasks {
    fn spawn(&self, task: PinnedFuture<()>) {
        let unclaimed = SPAWNED.with_borrow_mut(|spawned| match spawned {
            Some(spawned) => {
                spawned.push(task);
                None
            }
            None => Some(task),
        });
        if let Some(task) = unclaimed {
            tokio::spawn(task);
        }
    }

    fn spawn_local(&self, task: PinnedLocalFuture<()>) {
        tokio::task::spawn_local(task);
    }

    fn poll_local(&self) {}
}

/// Runs `render` with the tasks it spawns on the task that awaits it. Tasks
/// still pending when it is done go to Tokio: a resource's task ends as soon
/// as its page's reactive owner is gone, so those are rare.
pub(crate) fn with_render_tasks<F: Future + Send>(render: F) -> impl Future<Output = F::Output> + Send {
    Scoped { render: Box::pin(render), tasks: FuturesUnordered::new() }
}

struct Scoped<F: Future> {
    render: Pin<Box<F>>,
    tasks: FuturesUnordered<PinnedFuture<()>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _claim = Claim(SPAWNED.replace(Some(Vec::new())));
        let this = &mut *self;
        let mut answer = Poll::Pending;
        for round in 1..=MAX_ROUNDS {
            answer = this.render.as_mut().poll(cx);
            let progressed = this.run_tasks(cx);
            if answer.is_ready() || !progressed {
                break;
            }
            if round == MAX_ROUNDS {
                // Still going: yield, and come back at once.
                cx.waker().wake_by_ref();
            }
        }
        if answer.is_ready() {
            for task in std::mem::take(&mut this.tasks) {
                tokio::spawn(task);
            }
        }
        answer
    }
}

impl<F: Future> Scoped<F> {
    /// Polls the tasks, taking in those spawned meanwhile; true when a task
    /// was spawned or finished, which may let the render go on.
    fn run_tasks(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        for _ in 0..MAX_TASK_POLLS {
            let spawned = SPAWNED.with_borrow_mut(|s| s.as_mut().map(std::mem::take).unwrap_or_default());
            progressed |= !spawned.is_empty();
            self.tasks.extend(spawned);
            match self.tasks.poll_next_unpin(cx) {
                Poll::Ready(Some(())) => progressed = true,
                Poll::Ready(None) | Poll::Pending => {
                    let more = SPAWNED.with_borrow(|s| s.as_ref().is_some_and(|s| !s.is_empty()));
                    if !more {
                        return progressed;
                    }
                }
            }
        }
        cx.waker().wake_by_ref();
        progressed
    }
}

/// Claims this thread's spawns while a render is polled; gives them back to
/// the outer claim (none, mostly) when the poll ends, even by a panic.
struct Claim(Option<Vec<PinnedFuture<()>>>);

impl Drop for Claim {
    fn drop(&mut self) {
        let unpolled = SPAWNED.replace(self.0.take());
        // Spawned after the last round took them in (only by a panic): Tokio runs them.
        for task in unpolled.into_iter().flatten() {
            tokio::spawn(task);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    use super::*;

    /// A task the render spawns, which the render then waits for.
    async fn spawn_and_wait() -> bool {
        let (done, finished) = futures::channel::oneshot::channel();
        Executor::spawn(async move {
            let _ = done.send(std::thread::current().id());
        });
        finished.await.is_ok_and(|thread| thread == std::thread::current().id())
    }

    #[test]
    fn a_render_runs_the_tasks_it_spawns_on_its_own_task() {
        init();
        // A runtime without workers: a task given to Tokio would never run
        // while the render blocks the thread, so the render would hang.
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let answered = runtime.block_on(async {
            let render = std::pin::pin!(with_render_tasks(spawn_and_wait()));
            futures::FutureExt::now_or_never(render)
        });
        assert_eq!(answered, Some(true), "the render finished in its first poll, on its own thread");
    }

    #[test]
    fn a_spawn_outside_a_render_goes_to_tokio_and_so_do_tasks_a_render_leaves_pending() {
        init();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let left = Arc::new(AtomicBool::new(false));
        runtime.block_on(async {
            let ran = ran.clone();
            Executor::spawn(async move { ran.store(true, Ordering::SeqCst) });
            let (wake, woken) = futures::channel::oneshot::channel::<()>();
            let left_task = left.clone();
            with_render_tasks(async move {
                Executor::spawn(async move {
                    let _ = woken.await;
                    left_task.store(true, Ordering::SeqCst);
                });
            })
            .await;
            assert!(!left.load(Ordering::SeqCst), "the task was still waiting when the render ended");
            let _ = wake.send(());
            for _ in 0..100 {
                tokio::task::yield_now().await;
            }
        });
        assert!(ran.load(Ordering::SeqCst), "a spawn outside a render runs on Tokio");
        assert!(left.load(Ordering::SeqCst), "a task the render left pending finished on Tokio");
    }
}
