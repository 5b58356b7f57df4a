//! Reading a response body with a hard size cap: a server that sends more
//! than a key or a key set can be is refused before it fills memory.

/// The body, or `None` past `max` bytes or on a read error.
pub(crate) async fn read_capped(mut response: reqwest::Response, max: usize) -> Option<Vec<u8>> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return None;
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > max {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}
