//! The check a batch makes before it claims: how many slots in a row are ready for it.

/// How many of `slots`, from the first, pass `ready(index, slot)` with no gap.
///
/// Tests four slots at a time while all of them pass, the usual case in a batch, and then finds
/// the first that fails one by one (testing again the four it stopped at).
#[inline(always)]
pub(crate) fn count_ready<S>(slots: &[S], ready: impl Fn(usize, &S) -> bool) -> usize {
    let mut index = 0;
    for four in slots.chunks_exact(4) {
        let all = ready(index, &four[0])
            & ready(index + 1, &four[1])
            & ready(index + 2, &four[2])
            & ready(index + 3, &four[3]);
        if !all {
            break;
        }
        index += 4;
    }
    while index < slots.len() && ready(index, &slots[index]) {
        index += 1;
    }
    index
}
